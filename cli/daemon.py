"""`flowtape daemon`: books, trades and candles in memory, served on a Unix socket."""

from __future__ import annotations

import asyncio
import logging
from contextlib import nullcontext

import typer

from infra.settings import get_settings
from infra.stack import Component, Stack
from infra.warehouse import Warehouse
from live.daemon.config import load_daemon_settings
from live.daemon.service import run_daemon


def register(app: typer.Typer) -> None:
    """Add `flowtape daemon`."""

    @app.command("daemon")
    def daemon_command() -> None:
        """Serve books, recent trades and candles of the live log on a Unix socket
        (FLOWTAPE_DAEMON_CONFIG names a TOML file; FLOWTAPE_DAEMON_* variables override it);
        seeded from ClickHouse unless FLOWTAPE_DAEMON_SEED=false. Runs until Ctrl-C."""
        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
            )
        settings = get_settings()
        daemon_settings = load_daemon_settings()
        needs: tuple[Component, ...] = ("nats", "clickhouse") if daemon_settings.seed else ("nats",)
        socket_path = daemon_settings.socket_in(settings.data_dir)
        with Stack(settings, needs=needs) as stack:
            warehouse = (
                Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database)
                if daemon_settings.seed
                else None
            )
            with warehouse or nullcontext():
                metrics = asyncio.run(
                    run_daemon(stack.url("nats"), warehouse, daemon_settings,
                               run_id=settings.run_id, socket_path=socket_path,
                               duplicate_window_s=settings.stream_duplicate_window_s)
                )  # fmt: skip
        typer.echo(
            f"daemon: {metrics.events:,} events from {metrics.messages:,} messages, "
            f"position {metrics.position}, {metrics.poison_messages} poison"
        )
