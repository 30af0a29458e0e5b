"""`flowtape replay`, `flowtape report` and `flowtape runs`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

import compute.flow as flow
from analytics.report import build_report
from cli.alpha import alpha_config
from cli.errors import OutputError, writing
from cli.progress import STDERR, Meter
from cli.report_view import report_tables
from infra.migrate import migrate
from infra.pages import set_huge_pages
from infra.runs import delete_run, list_runs
from infra.settings import get_settings
from infra.stack import Stack
from infra.warehouse import Warehouse
from replay.driver import ReplaySummary, use_system_allocator
from replay.session import IncompleteReplay, ReplayRequest, replay_session
from replay.sources import SessionSpan

console = STDERR


class _ReplayBar:
    """A replay's progress, measured in session time: how far through the span of receive
    times the engine has got, with the events done, their rate and the time left. A session
    whose span is unknown gets an indeterminate bar with the same counts."""

    def __init__(self, meter: Meter) -> None:
        self._meter = meter
        self._span = SessionSpan(0, 0)
        self._seen = 0
        self._downloading = False

    def note(self, message: str) -> None:
        self._meter.note(message)

    def downloading(self, schema: str, size: int) -> None:
        if not self._downloading:
            self._meter.start(None, unit="kB")  # a download's size is not known ahead
            self._downloading = True
        self._meter.update(size // 1000, description=f"download {schema}")

    def begin(self, span: SessionSpan) -> None:
        self._span = span
        self._meter.start(span.last - span.first + 1 if span.last else None, unit="events")

    def advance(self, count: int, last_ts_recv: int) -> None:
        self._seen += count
        if not self._span.last:
            self._meter.update(self._seen)
            return
        reached = min(max(last_ts_recv, self._span.first), self._span.last)
        self._meter.update(
            self._seen,
            completed=reached - self._span.first,
            where=f"{_clock(reached)} of {_clock(self._span.last)} UTC",
        )


def _clock(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns / 1e9, dt.UTC).strftime("%H:%M:%S")


# Raw event types a summary names, in its order, zero or not: what a session read, options
# or equities (an equities-only replay must not read as "nothing happened").
_RAW_ROWS = {"OptionPrint": "option prints", "OptionQuote": "option quotes",
             "EquityPrint": "equity prints", "EquityQuote": "equity quotes",
             "OptionContract": "option contracts", "OpenInterest": "open interest"}  # fmt: skip


def _print_summary(summary: ReplaySummary) -> None:
    table = Table("what", "count", title=f"run {summary.run_id}")
    table.add_row("raw events", f"{summary.events:,}")
    for name, label in _RAW_ROWS.items():
        table.add_row(label, f"{summary.raw[name]:,}")
    for name, count in sorted(summary.raw.items()):
        if name not in _RAW_ROWS and name != "Quarantined":
            table.add_row(name, f"{count:,}")
    for kind, count in sorted(summary.packets_by_kind.items()):
        table.add_row(f"packets: {kind}", f"{count:,}")
    for name in ("ClassifierHit", "Alert", "DarkPoolEvent", "PrintInference", "AlphaFrame"):
        table.add_row(name, f"{summary.outputs.get(name, 0):,}")
    table.add_row("quarantined", f"{summary.quarantined:,}")
    table.add_row("wall time", f"{summary.wall_s:.1f} s")
    table.add_row("prints/s", f"{summary.prints_per_s:,.0f}")
    Console().print(table)


def register(app: typer.Typer) -> None:
    @app.command()
    def replay(
        paths: Annotated[
            list[Path] | None,
            typer.Argument(help="DBN files of a session", exists=True, dir_okay=False),
        ] = None,
        run_id: Annotated[str | None, typer.Option("--run-id")] = None,
        start: Annotated[str | None, typer.Option("--from", help="ISO time or ns")] = None,
        end: Annotated[str | None, typer.Option("--to", help="ISO time or ns")] = None,
        from_run: Annotated[str | None, typer.Option(help="a stored run's raw tables")] = None,
        date: Annotated[str | None, typer.Option(help="with --from-run: YYYY-MM-DD")] = None,
        empty_state: Annotated[bool, typer.Option(help="ignore a stored state snapshot")] = False,
        dataset: Annotated[str | None, typer.Option(help="download: Databento dataset")] = None,
        schema: Annotated[list[str] | None, typer.Option(help="download: schema(s)")] = None,
        symbols: Annotated[list[str] | None, typer.Option(help="download: symbols")] = None,
        shards: Annotated[
            int,
            typer.Option(
                min=1,
                help="engine processes, each taking some underlyings (same stored result; "
                "worth it when ClickHouse runs on other cores)",
            ),
        ] = 1,
    ) -> None:
        """Recompute a session at full speed into ClickHouse under a run id."""
        request = ReplayRequest(
            paths=tuple(paths or ()), from_run=from_run, date=date, dataset=dataset,
            schemas=tuple(schema or ()), symbols=tuple(symbols or ()), start=start, end=end,
            empty_state=empty_state, shards=shards,
        )  # fmt: skip
        request.check()  # before any server starts
        use_system_allocator()
        settings = get_settings()
        config = flow.config_from_settings(settings.raw_environment(flow.SEED_NAMES))
        frames_config = alpha_config(settings)
        with (
            Stack(settings, needs=("clickhouse", "redis")) as stack,
            Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database) as warehouse,
            Meter("replay", "events") as meter,
        ):
            migrate(warehouse)
            set_huge_pages(settings.transparent_huge_pages)  # the engines', not the servers'
            summary = replay_session(
                request, warehouse=warehouse, redis_url=stack.url("redis"), config=config,
                cache_dir=settings.data_dir / "databento", run_id=run_id,
                progress=_ReplayBar(meter), alpha_config=frames_config,
            )  # fmt: skip
        _print_summary(summary)
        if summary.truncated:
            # the run is stored and marked incomplete; a script must not take it for the session
            raise IncompleteReplay(
                f"run {summary.run_id} is incomplete: " + "; ".join(summary.truncated)
            )

    @app.command()
    def report(
        run_id: Annotated[str, typer.Argument(help="the run to report on")],
        out: Annotated[Path | None, typer.Option(help="folder for the Parquet files")] = None,
    ) -> None:
        """Backtest report: forward moves after each alert and hit, hit rates, calibration."""
        settings = get_settings()
        folder = out or settings.data_dir / "reports" / run_id
        if folder.exists() and not folder.is_dir():  # before reaching for a server
            raise OutputError(f"cannot write {folder}: not a folder")
        with Stack(settings, needs=("clickhouse",)) as stack:
            with Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database) as wh:
                migrate(wh)
                result = build_report(wh, run_id)  # UnknownRun: nothing is written
        with writing(folder):
            paths = result.write_parquet(folder)
        screen = Console()
        for table in report_tables(result):
            screen.print(table)
        console.print(f"wrote {', '.join(str(p) for p in paths)}")

    @app.command()
    def runs(
        delete: Annotated[str | None, typer.Option(help="delete this run's rows")] = None,
    ) -> None:
        """List runs, or delete one (drops its partitions)."""
        settings = get_settings()
        with Stack(settings, needs=("clickhouse",)) as stack:
            with Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database) as wh:
                migrate(wh)
                if delete:
                    console.print(f"dropped {delete_run(wh, delete)} partitions of {delete}")
                table = Table("run_id", "kind", "status", "created_at")
                for run in list_runs(wh):
                    table.add_row(run["run_id"], run["kind"], run["status"],
                                  str(run["created_at"]))  # fmt: skip
        Console().print(table)
