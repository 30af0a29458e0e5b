"""`flowtape deliver`: flow alerts to subscribers' webhooks (ops.delivery)."""

from __future__ import annotations

import asyncio
import logging
import signal
from pathlib import Path
from typing import Annotated

import aiohttp
import msgspec
import typer

from infra.bus import Bus
from infra.migrate import migrate
from infra.settings import Settings, get_settings
from infra.stack import Stack
from infra.warehouse import Warehouse
from ops.dead_letters import DeadLetterTable
from ops.delivery import POSITION_FILE, AlertDelivery, load_position, plan, run_delivery
from ops.signing import sign
from ops.subscribers import Subscriber, load_subscribers
from schemas.events import Alert


def _stop_on_signals() -> asyncio.Event:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    return stop


async def _dry_run(nats_url: str, subscribers: list[Subscriber], start_seq: int) -> None:
    async def show(alert: Alert, seq: int) -> None:
        for subscriber, body in plan(subscribers, alert):
            line = {
                "seq": seq, "subscriber": subscriber.name, "url": subscriber.url,
                "signature": sign(subscriber.secret, body), "body": msgspec.json.decode(body),
            }  # fmt: skip
            typer.echo(msgspec.json.encode(line).decode())

    bus = await Bus.connect(nats_url, name="flowtape-deliver")
    try:
        await run_delivery(bus, show, start_seq=start_seq, stop=asyncio.Event(), until_idle=True)
    finally:
        await bus.close()


async def _deliver(
    nats_url: str, warehouse: Warehouse, subscribers: list[Subscriber], settings: Settings,
    position_path: Path, until_idle: bool,
) -> int:  # fmt: skip
    bus = await Bus.connect(nats_url, name="flowtape-deliver")
    try:
        async with aiohttp.ClientSession() as http:
            delivery = AlertDelivery(subscribers, http, DeadLetterTable(warehouse), settings.run_id)
            return await run_delivery(
                bus, delivery.deliver, start_seq=load_position(position_path) + 1,
                stop=_stop_on_signals(), until_idle=until_idle, position_path=position_path,
            )  # fmt: skip
    finally:
        await bus.close()


def register(app: typer.Typer) -> None:
    """Add `flowtape deliver`."""

    @app.command("deliver")
    def deliver(
        subscribers_file: Annotated[
            Path, typer.Option("--subscribers", help="the subscribers' TOML file", exists=True)
        ],
        dry_run: Annotated[
            bool, typer.Option("--dry-run", help="print what would be sent; send nothing")
        ] = False,
        until_idle: Annotated[
            bool, typer.Option("--until-idle", help="stop once DERIVED holds no new alert")
        ] = False,
    ) -> None:
        """Send the engine's alerts to subscribers' webhooks (filtered by symbols, severity
        and rules; HMAC-SHA256-signed; retried; dead letters in ClickHouse), resuming after
        the last alert settled (<data dir>/delivery-position.json)."""
        if not logging.getLogger().handlers:
            logging.basicConfig(level=logging.INFO)
        settings = get_settings()
        subscribers = load_subscribers(subscribers_file)
        position_path = settings.data_dir.resolve() / POSITION_FILE
        if dry_run:
            with Stack(settings, needs=("nats",)) as stack:
                start = load_position(position_path) + 1
                asyncio.run(_dry_run(stack.url("nats"), subscribers, start))
            return
        with Stack(settings, needs=("nats", "clickhouse")) as stack:
            warehouse = Warehouse.connect(stack.url("clickhouse"), settings.clickhouse_database)
            try:
                migrate(warehouse)
                position = asyncio.run(
                    _deliver(stack.url("nats"), warehouse, subscribers, settings,
                             position_path, until_idle)
                )  # fmt: skip
            finally:
                warehouse.close()
        typer.echo(f"deliver: alerts settled through DERIVED sequence {position}")
