"""`flowtape up`, `status` and `migrate`: the servers, the services and the schema."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from infra.migrate import migrate
from infra.settings import Settings, get_settings
from infra.stack import COMPONENTS, Stack, is_healthy
from infra.warehouse import Warehouse

console = Console(stderr=True)

# The long-running services `flowtape up` starts as child processes.
SERVICES: tuple[tuple[str, ...], ...] = (("sink",), ("compute",), ("ingest",), ("api",))


def open_warehouse(stack: Stack, settings: Settings) -> Warehouse:
    return Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database)


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
            env = {**os.environ, **stack.environment()}
            for argv in SERVICES:
                if argv == ("ingest",):
                    argv = ("ingest", "--source", source, *shlex.split(source_args))
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
    for name, row in report.items():
        table.add_row(name, row["url"] or "-", row["origin"], "yes" if row["healthy"] else "no")
    Console().print(table)


def migrate_command() -> None:
    """Apply the ClickHouse migrations not yet applied."""
    settings = get_settings()
    with Stack(settings, needs=("clickhouse",)) as stack, open_warehouse(stack, settings) as wh:
        applied = migrate(wh)
    console.print(f"{len(applied)} migration(s) applied: {[m.name for m in applied]}")


def register(app: typer.Typer) -> None:
    """Add `up`, `status` and `migrate`."""
    app.command()(up)
    app.command()(status)
    app.command("migrate")(migrate_command)
