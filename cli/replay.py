"""`flowtape replay`, `flowtape report` and `flowtape runs`."""

from __future__ import annotations

import time
from pathlib import Path
from types import TracebackType
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

import compute
from analytics.report import build_report
from cli.errors import writing
from infra.migrate import migrate
from infra.runs import delete_run, list_runs
from infra.settings import get_settings
from infra.stack import Stack
from infra.warehouse import Warehouse
from replay.driver import ReplaySummary
from replay.session import ReplayRequest, replay_session

console = Console(stderr=True)


class _ProgressBar:
    """A replay's progress on stderr: events done, their rate, and the time left, estimated
    from about how many events the source holds."""

    def __init__(self) -> None:
        self._progress = Progress(
            TextColumn("[bold]replay"), BarColumn(), TextColumn("{task.fields[rate]}"),
            TimeElapsedColumn(), TimeRemainingColumn(), console=console,
        )  # fmt: skip
        self._task: TaskID | None = None
        self._expected = 0
        self._seen = 0
        self._started = 0.0

    def note(self, message: str) -> None:
        console.print(message)

    def begin(self, expected: int) -> None:
        self._expected = expected
        self._progress.start()
        self._task = self._progress.add_task("replay", total=expected or None, rate="")
        self._started = time.perf_counter()

    def advance(self, count: int, last_ts_recv: int) -> None:
        if self._task is None:
            return
        self._seen += count
        rate = f"{self._seen / max(time.perf_counter() - self._started, 1e-9):,.0f} events/s"
        total = max(self._expected, self._seen) if self._expected else None  # an estimate
        self._progress.update(self._task, total=total, completed=self._seen, rate=rate)

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._task is not None:
            # the estimate is now exact
            self._progress.update(self._task, total=self._seen, completed=self._seen)
        self._progress.stop()


def _print_summary(summary: ReplaySummary) -> None:
    table = Table("what", "count", title=f"run {summary.run_id}")
    table.add_row("raw events", f"{summary.events:,}")
    table.add_row("option prints", f"{summary.prints:,}")
    for kind, count in sorted(summary.packets_by_kind.items()):
        table.add_row(f"packets: {kind}", f"{count:,}")
    for name in ("ClassifierHit", "Alert", "DarkPoolEvent", "PrintInference"):
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
        settings = get_settings()
        config = compute.config_from_settings(settings.raw_environment(compute.SEED_NAMES))
        with (
            Stack(settings, needs=("clickhouse", "redis")) as stack,
            Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database) as warehouse,
            _ProgressBar() as progress,
        ):
            migrate(warehouse)
            summary = replay_session(
                request, warehouse=warehouse, redis_url=stack.url("redis"), config=config,
                cache_dir=settings.data_dir / "databento", run_id=run_id, progress=progress,
            )  # fmt: skip
        _print_summary(summary)

    @app.command()
    def report(
        run_id: Annotated[str, typer.Argument(help="the run to report on")],
        out: Annotated[Path | None, typer.Option(help="folder for the Parquet files")] = None,
    ) -> None:
        """Backtest report: forward moves after each alert and hit, hit rates, calibration."""
        settings = get_settings()
        with Stack(settings, needs=("clickhouse",)) as stack:
            with Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database) as wh:
                migrate(wh)  # a folder that has run nothing yet reports an empty run
                result = build_report(wh, run_id)
        folder = out or settings.data_dir / "reports" / run_id
        with writing(folder):
            paths = result.write_parquet(folder)
        Console().print(result.summary)
        Console().print(result.calibration)
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
