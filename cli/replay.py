"""`flowtape replay`, `flowtape report` and `flowtape runs`."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

import compute
from analytics.report import build_report
from infra.migrate import migrate
from infra.runs import delete_run, list_runs, register_run
from infra.settings import get_settings
from infra.stack import Stack
from infra.warehouse import Warehouse
from replay.driver import ReplaySummary, replay_events
from replay.sources import (
    dbn_events,
    download_events,
    stored_events,
    stored_snapshot,
    underlying_weights,
)
from schemas.events import Event, OpenInterest, OptionContract

console = Console(stderr=True)
REFERENCE = (OptionContract, OpenInterest)


def parse_time(value: str | None) -> int | None:
    """Nanoseconds since the epoch from an integer or an ISO time (UTC unless it says)."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    parsed = dt.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1_000


def within(events: Iterable[Event], start: int | None, end: int | None) -> Iterator[Event]:
    """Events with `start <= ts_recv < end`; reference data (definitions, open interest)
    from before `start` passes too, since the engine needs it for what follows."""
    for event in events:
        ts = event.ts_recv
        if start is not None and ts < start and not isinstance(event, REFERENCE):
            continue
        if end is not None and ts >= end:
            break  # canonical order: nothing later can fall inside
        yield event


def _default_run_id() -> str:
    return "replay-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")


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
        paths: Annotated[list[Path] | None, typer.Argument(help="DBN files of a session")] = None,
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
        settings = get_settings()
        config = compute.config_from_settings(settings.raw_environment(compute.SEED_NAMES))
        run = run_id or _default_run_id()
        begin, finish = parse_time(start), parse_time(end)
        with Stack(settings, needs=("clickhouse", "redis")) as stack:
            warehouse = Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database)
            migrate(warehouse)
            weights: dict[str, int] | None = None
            if from_run:
                if not date:
                    raise typer.BadParameter("--from-run needs --date YYYY-MM-DD")
                stored = stored_events(warehouse, from_run, date)
                events: Iterable[Event] = stored
                expected = len(stored)
            elif dataset:
                if not (schema and symbols and start and end):
                    raise typer.BadParameter("a download needs --schema, --symbols, --from, --to")
                events, expected = download_events(dataset, schema, symbols, start, end,
                                               settings.data_dir / "databento")  # fmt: skip
            elif paths:
                events, expected = dbn_events(paths)
                weights = underlying_weights(paths) if shards > 1 else None
            else:
                raise typer.BadParameter("give DBN files, --from-run RUN --date D, or --dataset")
            delete_run(warehouse, run)  # a run id names one result: replaying it replaces it
            params = {"paths": [str(p) for p in paths or []], "from": start, "to": end,
                      "from_run": from_run, "date": date, "dataset": dataset}  # fmt: skip
            register_run(warehouse, run, kind="replay", description="", params=params,
                         status="running")  # fmt: skip
            state = None
            if from_run and date and not empty_state:
                state = stored_snapshot(stack.url("redis"), from_run, date, run)
                console.print(f"starting from {'the stored' if state else 'an empty'} state")
                if state is not None and shards > 1:
                    console.print("a stored state runs in one engine: --shards ignored")
                    shards = 1
            with Progress(
                TextColumn("[bold]replay"), BarColumn(), TextColumn("{task.fields[rate]}"),
                TimeElapsedColumn(), TimeRemainingColumn(), console=console,
            ) as progress:  # fmt: skip
                task = progress.add_task("replay", total=expected or None, rate="")
                started = time.perf_counter()
                seen = 0

                def advance(count: int, last_ts: int) -> None:
                    nonlocal seen
                    seen += count
                    rate = f"{seen / max(time.perf_counter() - started, 1e-9):,.0f} events/s"
                    total = max(expected, seen) if expected else None  # an estimate
                    progress.update(task, total=total, completed=seen, rate=rate)

                summary = replay_events(
                    within(events, begin, finish), run_id=run, config=config,
                    warehouse=warehouse, state=state, progress=advance, shards=shards,
                    weights=weights,
                )  # fmt: skip
                progress.update(task, total=seen, completed=seen)  # the estimate is now exact
            register_run(warehouse, run, kind="replay", description="", params=params,
                         status="done")  # fmt: skip
            warehouse.close()
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
                result = build_report(wh, run_id)
        folder = out or settings.data_dir / "reports" / run_id
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
