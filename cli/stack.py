"""`flowtape up`, `status` and `migrate`: the servers, the services and the schema."""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.supervisor import Supervisor
from infra.migrate import migrate
from infra.settings import Settings, get_settings
from infra.stack import COMPONENTS, Stack, UpRecord, is_healthy
from infra.warehouse import Warehouse
from synth.cme_config import CmeConfig

console = Console(stderr=True)

# The long-running services `flowtape up` starts as child processes.
SERVICES: tuple[tuple[str, ...], ...] = (
    ("sink",), ("compute",), ("daemon",), ("ingest",), ("alpha",), ("api",),
)  # fmt: skip
# Beside the synthetic options market, a synthetic CME market (CL futures, LO options) whose
# frames the alpha service computes at the rate its options were priced with.
SYNTHETIC_CME: tuple[str, ...] = ("ingest", "--source", "synthetic-cme", "--minutes", "30")


def open_warehouse(stack: Stack, settings: Settings) -> Warehouse:
    return Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database)


def _port_is_free(host: str, port: int) -> bool:
    try:
        socket.create_server((host, port)).close()
    except OSError:
        return False
    return True


def api_address(settings: Settings) -> tuple[str, int]:
    """API_HOST and API_PORT; a free port on that host instead when API_PORT is taken, so
    `up` always has its web page (at the URL it prints and records for `status`)."""
    host, port = settings.api_host, settings.api_port
    if _port_is_free(host, port):
        return host, port
    with socket.create_server((host, 0)) as sock:
        free: int = sock.getsockname()[1]
    console.print(f"[yellow]api        port {port} on {host} is taken; using port {free}")
    return host, free


def _browsable(host: str) -> str:
    return "127.0.0.1" if host in ("", "0.0.0.0", "::") else host  # noqa: S104  (a name, not a bind)


def service_commands(
    source: str, source_args: str, api_host: str, api_port: int, verbose: bool
) -> list[tuple[str, ...]]:
    """Each service's `flowtape` arguments."""
    commands = []
    for argv in SERVICES:
        if argv == ("ingest",):
            argv = ("ingest", "--source", source, *shlex.split(source_args))
            if source == "synthetic":
                commands.append(SYNTHETIC_CME)
        elif argv == ("alpha",) and source == "synthetic":
            argv = ("alpha", "--rate", str(CmeConfig().rate))
        elif argv == ("api",):
            log_level = "info" if verbose else "warning"  # info logs every request
            argv = ("api", "--host", api_host, "--port", str(api_port), "--log-level", log_level)
        commands.append(argv)
    return commands


def up(
    no_services: Annotated[
        bool, typer.Option("--no-services", help="Only the servers and the schema.")
    ] = False,
    source: Annotated[str, typer.Option(help="the ingest source")] = "synthetic",
    source_args: Annotated[
        str, typer.Option(help="more `flowtape ingest` options, e.g. '--minutes 30 --speed 10'")
    ] = "",
    verbose: Annotated[bool, typer.Option("--verbose", help="Log every API request.")] = False,
    cluster: Annotated[
        int,
        typer.Option(
            "--cluster", min=1, help="NATS as this many nodes; 3 or more: RAW and DERIVED on 3."
        ),
    ] = 1,
    shards: Annotated[
        int,
        typer.Option(
            "--shards", min=1, help="ClickHouse as this many shards, Distributed tables over them."
        ),
    ] = 1,
) -> None:
    """Servers (embedded unless configured), schema and services, until Ctrl-C. A service
    that dies is restarted; one that keeps dying right after it starts stops `up`."""
    settings = get_settings()
    with Stack(settings, record=True, nats_nodes=cluster, clickhouse_shards=shards) as stack:
        with open_warehouse(stack, settings) as warehouse:
            applied = migrate(warehouse)
        console.print(f"schema: {len(applied)} migration(s) applied")
        for endpoint in stack.endpoints.values():
            console.print(f"{endpoint.component:<11}{endpoint.url}  ({endpoint.origin})")
        supervisor = Supervisor(
            command=(sys.executable, "-m", "cli.main"),
            env={**os.environ, **stack.environment()},
            report=console.print,
        )
        try:
            if not no_services:
                host, port = api_address(settings)
                api_url = f"http://{_browsable(host)}:{port}"
                supervisor.on_change = lambda: stack.record_services(api_url, supervisor.records())
                for argv in service_commands(source, source_args, host, port, verbose):
                    service = supervisor.start(argv)
                    console.print(f"service    {' '.join(argv)} (pid {service.pid})")
                console.print(f"web page   {api_url}/")
                console.print(f"API docs   {api_url}/docs")
            console.print("flowtape is up; Ctrl-C stops everything")
            _supervise_until_interrupt(supervisor)
        finally:
            supervisor.stop()
            console.print("stopping servers")


def _supervise_until_interrupt(supervisor: Supervisor) -> None:
    stop = False

    def _on_signal(signum: int, frame: object) -> None:
        nonlocal stop
        stop = True

    signal.signal(signal.SIGTERM, _on_signal)
    try:
        while not stop:
            supervisor.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass


def _answers(api_url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{api_url}/health", timeout=2):  # noqa: S310  (recorded URL)
            return True
    except urllib.error.HTTPError:  # a 503 is an answer: /health says what is down
        return True
    except OSError:
        return False


def status(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """Each server's URL and health, the API and the services `flowtape up` runs, without
    starting anything. Exits 1 when anything found is not answering or nothing is up."""
    stack = Stack(get_settings())
    up = stack.recorded_up()
    components: dict[str, dict[str, Any]] = {}
    for component in COMPONENTS:
        found = stack.locate(component, up)
        url = found.url if found else ""
        components[component] = {
            "url": url,
            "origin": found.origin if found else "none",
            "healthy": bool(url) and is_healthy(component, url),
        }
    api = {"url": up.api_url, "answering": _answers(up.api_url)} if up and up.api_url else None
    services = [asdict(service) for service in up.services] if up else []
    if as_json:
        typer.echo(json.dumps({"components": components, "api": api, "services": services}))
    else:
        _print_status(components, api, up)
    down = [name for name, row in components.items() if not row["healthy"]]
    if api is not None and not api["answering"]:
        down.append("api")
    if len(down) == len(components) + (api is not None):
        console.print(f"[red]nothing is up in {stack.data_dir}: `flowtape up` starts it")
        raise typer.Exit(1)
    if down:
        console.print(f"[red]not answering: {', '.join(down)}")
        raise typer.Exit(1)


def _print_status(
    components: dict[str, dict[str, Any]], api: dict[str, Any] | None, up: UpRecord | None
) -> None:
    out = Console()
    table = Table("component", "url", "origin", "healthy")
    for name, row in components.items():
        table.add_row(name, row["url"] or "-", row["origin"], "yes" if row["healthy"] else "no")
    if api is not None:
        table.add_row("api", api["url"], "up", "yes" if api["answering"] else "no")
    out.print(table)
    if up and up.services:
        services = Table("service", "pid", "state", "restarts", "command")
        for service in up.services:
            services.add_row(
                service.name, str(service.pid), service.state, str(service.restarts),
                service.command,
            )  # fmt: skip
        out.print(services)


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
