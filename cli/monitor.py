"""`flowtape monitor`: every service's /health and ClickHouse, alerts to webhook and chat."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import aiohttp
import typer

from infra.health import health_served
from ops.monitor import Monitor
from ops.monitor_config import MonitorConfig, load_monitor_config


async def _monitor(config: MonitorConfig) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    async with aiohttp.ClientSession() as http:
        monitor = Monitor(config, http)
        async with health_served(monitor.report, config.health_port):
            await monitor.run(stop)


def register(app: typer.Typer) -> None:
    """Add `flowtape monitor`."""

    @app.command("monitor")
    def monitor(
        config_file: Annotated[
            Path, typer.Option("--config", help="the monitor's TOML file", exists=True)
        ],
    ) -> None:
        """Poll every service's /health and ClickHouse; alert once per rule (service down,
        degraded, backlog growing, stale, ClickHouse down) to a signed webhook and a chat in
        Telegram's Bot API format, and notify each recovery. Serves its own /health on
        health_port for an external uptime check."""
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        asyncio.run(_monitor(load_monitor_config(config_file)))
