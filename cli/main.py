"""The `flowtape` command."""

from __future__ import annotations

import csv
import gc
import io
import json
import os
import shlex
import signal
import subprocess
import sys
import time
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infra.migrate import migrate
from infra.settings import Settings, get_settings
from infra.stack import COMPONENTS, Stack, is_healthy
from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)
console = Console(stderr=True)

# Long-running services `flowtape up` starts as child processes, when their command exists.
SERVICES: tuple[tuple[str, ...], ...] = (("sink",), ("compute",), ("ingest",), ("api",))


def open_warehouse(stack: Stack, settings: Settings) -> Warehouse:
    return Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database)


@app.command()
def up(
    no_services: Annotated[
        bool, typer.Option("--no-services", help="Only the servers and the schema.")
    ] = False,
    source: Annotated[str, typer.Option(help="the ingest source")] = "synthetic",
    source_args: Annotated[
        str, typer.Option(help="more `flowtape ingest` options, e.g. '--minutes 30 --speed 10'")
    ] = "",
) -> None:
    """Servers (embedded unless configured), schema and services, until Ctrl-C."""
    settings = get_settings()
    with Stack(settings, record=True) as stack:
        with open_warehouse(stack, settings) as warehouse:
            applied = migrate(warehouse)
        console.print(f"schema: {len(applied)} migration(s) applied")
        for endpoint in stack.endpoints.values():
            console.print(f"{endpoint.component:<11}{endpoint.url}  ({endpoint.origin})")
        children: list[subprocess.Popen[bytes]] = []
        if not no_services:
            known = {
                command.name or command.callback.__name__.replace("_", "-")
                for command in app.registered_commands
                if command.callback is not None
            }
            env = {**os.environ, **stack.environment()}
            for argv in SERVICES:
                if argv == ("ingest",):
                    argv = ("ingest", "--source", source, *shlex.split(source_args))
                if argv[0] in known:
                    children.append(
                        subprocess.Popen([sys.executable, "-m", "cli.main", *argv], env=env)  # noqa: S603
                    )
                    console.print(f"service    {' '.join(argv)} (pid {children[-1].pid})")
        console.print("flowtape is up; Ctrl-C stops everything")
        try:
            _wait_for_interrupt(children)
        finally:
            for child in children:
                child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(20)
                except subprocess.TimeoutExpired:
                    child.kill()
            console.print("stopping servers")


def _wait_for_interrupt(children: list[subprocess.Popen[bytes]]) -> None:
    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        while not stop:
            for child in children:
                if child.poll() is not None:
                    console.print(f"[red]service pid {child.pid} exited ({child.returncode})")
                    children.remove(child)
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


@app.command()
def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each component's URL and health, without starting anything."""
    settings = get_settings()
    stack = Stack(settings)
    recorded = stack.running_up()
    report: dict[str, dict[str, Any]] = {}
    for component in COMPONENTS:
        url = stack.external_url(component) or recorded.get(component, "")
        origin = "external" if stack.external_url(component) else ("up" if url else "none")
        report[component] = {
            "url": url,
            "origin": origin,
            "healthy": bool(url) and is_healthy(component, url),
        }
    if as_json:
        typer.echo(json.dumps(report, indent=2))
        return
    table = Table("component", "url", "origin", "healthy")
    for component, row in report.items():
        table.add_row(
            component, row["url"] or "-", row["origin"], "yes" if row["healthy"] else "no"
        )
    Console().print(table)


@app.command("migrate")
def migrate_command() -> None:
    """Apply the ClickHouse migrations not yet applied."""
    settings = get_settings()
    with Stack(settings, needs=("clickhouse",)) as stack, open_warehouse(stack, settings) as wh:
        applied = migrate(wh)
    console.print(f"{len(applied)} migration(s) applied: {[m.name for m in applied]}")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def render_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> str:
    """Query results as `table`, `json` or `csv` text."""
    if fmt == "json":
        return json.dumps(
            [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return out.getvalue()
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(_plain(v)) for v in row))
    buffer = Console(file=io.StringIO(), width=200)
    buffer.print(table)
    return buffer.file.getvalue()  # type: ignore[attr-defined]


@app.command()
def sql(
    query: Annotated[str, typer.Argument(help="SQL to run.")] = "",
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    name: Annotated[
        str, typer.Option("--name", help="Run the named query sql/queries/NAME.sql.")
    ] = "",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A named query's parameter, k=v.")
    ] = None,
    list_names: Annotated[
        bool, typer.Option("--list", help="List the named queries and their parameters.")
    ] = False,
) -> None:
    """Run SQL against flowtape's ClickHouse database, or a named query (--name)."""
    from analytics.queries import list_queries, parse_param_args, run_query

    if fmt not in {"table", "json", "csv"}:
        raise typer.BadParameter(f"expected table, json or csv, got {fmt!r}")
    if list_names:
        for named in list_queries():
            params = ", ".join(
                f"{p}:{t}" + (f"={named.defaults[p]!r}" if p in named.defaults else "")
                for p, t in named.params.items()
            )
            typer.echo(f"{named.name}({params})\n    {named.description}")
        return
    if bool(name) == bool(query):
        raise typer.BadParameter("expected either SQL text or --name NAME")
    if param and not name:
        raise typer.BadParameter("--param goes with --name")
    settings = get_settings()
    with Stack(settings, needs=("clickhouse",)) as stack, open_warehouse(stack, settings) as wh:
        if name:
            columns, rows = run_query(wh, name, parse_param_args(param or []))
        else:
            result = wh.client.query(query)
            columns, rows = list(result.column_names), list(result.result_rows)
        typer.echo(render_rows(columns, rows, fmt), nl=False)


def _register_commands() -> None:
    from cli.api import register as register_api
    from cli.compute import register as register_compute
    from cli.ingest import register as register_ingest
    from cli.replay import register as register_replay
    from cli.sink import register as register_sink
    from cli.synth import register as register_synth

    register_synth(app)
    register_ingest(app)
    register_compute(app)
    register_sink(app)
    register_replay(app)
    register_api(app)


_register_commands()


def tune_gc() -> None:
    """Collect cyclic garbage rarely: flowtape holds millions of small acyclic objects
    (events, engine state) and CPython's default thresholds rescan them so often that the
    engine runs at a third of its speed (bench/bench_replay.py shows the difference)."""
    gc.freeze()  # what import created stays out of every later scan
    gc.set_threshold(100_000, 50, 100)


def main() -> None:
    tune_gc()
    try:
        app()
    except FlowtapeError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise SystemExit(2) from exc


if __name__ == "__main__":
    main()
