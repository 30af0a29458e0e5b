"""`flowtape sink`: the thin command around live.sink.Sink."""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import time
from typing import Annotated

import typer
from nats.js.errors import NotFoundError

from infra.bus import Bus
from infra.migrate import migrate
from infra.settings import Settings, get_settings
from infra.stack import Stack
from infra.warehouse import Warehouse
from live.sink import Sink, SinkConfig, apply_retention, retention_from_env
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

log = logging.getLogger("flowtape.sink")
_DEFAULTS = SinkConfig()
METRICS_FILE = "sink-metrics.json"  # in the data folder; the API can serve it


def _connect_warehouse(url: str, settings: Settings, wait_s: float) -> Warehouse:
    """Connect and migrate, waiting up to `wait_s` for ClickHouse to answer."""
    deadline = time.monotonic() + wait_s
    delay = 0.2
    while True:
        try:
            warehouse = Warehouse.connect(url, settings.clickhouse_database)
            migrate(warehouse)
            return warehouse
        except Exception as exc:
            if time.monotonic() >= deadline:
                raise
            log.warning("ClickHouse not ready (%s); retrying in %.1fs", exc, delay)
            time.sleep(delay)
            delay = min(delay * 2, 5.0)


async def _ensure_streams(bus: Bus, settings: Settings) -> None:
    for stream in (RAW_STREAM, DERIVED_STREAM):
        try:
            await bus.js.stream_info(stream)
        except NotFoundError:
            await bus.ensure_streams(
                max_bytes=settings.stream_max_bytes,
                duplicate_window_s=settings.stream_duplicate_window_s,
            )
            return


async def _serve(
    nats_url: str, warehouse: Warehouse, settings: Settings, streams: list[str],
    config: SinkConfig, until_idle: bool,
) -> dict[str, object]:  # fmt: skip
    bus = await Bus.connect(nats_url, name="flowtape-sink")
    try:
        await _ensure_streams(bus, settings)
        metrics_path = settings.data_dir.resolve() / METRICS_FILE
        sink = Sink(bus, warehouse, config=config, streams=streams, metrics_path=metrics_path)
        if until_idle:
            await sink.run_until_idle()
        else:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(signum, stop.set)
            await sink.run(stop)
        return sink.metrics.as_dict()
    finally:
        await bus.close()


def register(app: typer.Typer) -> None:
    """Add the `sink` command to the flowtape CLI."""

    @app.command("sink")
    def sink(
        stream: Annotated[
            list[str] | None, typer.Option("--stream", help="RAW and/or DERIVED (default both).")
        ] = None,
        batch_rows: Annotated[
            int, typer.Option(help="Flush when this many rows are pending.")
        ] = _DEFAULTS.batch_rows,
        batch_wait_s: Annotated[
            float, typer.Option(help="... or when the oldest pending message waited this long.")
        ] = _DEFAULTS.batch_wait_s,
        fetch_messages: Annotated[
            int, typer.Option(help="Messages per pull.")
        ] = _DEFAULTS.fetch_messages,
        until_idle: Annotated[
            bool, typer.Option("--until-idle", help="Exit once everything stored is caught up.")
        ] = False,
    ) -> None:
        """Store RAW and DERIVED in ClickHouse, exactly once, until Ctrl-C (or caught up with
        --until-idle). Applies RETENTION_DAYS_<TABLE> TTLs first; keeps its metrics in
        <data dir>/sink-metrics.json."""
        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
            )
        settings = get_settings()
        streams = [s.upper() for s in (stream or [RAW_STREAM, DERIVED_STREAM])]
        config = SinkConfig(
            batch_rows=batch_rows, batch_wait_s=batch_wait_s, fetch_messages=fetch_messages
        )
        with Stack(settings, needs=("nats", "clickhouse")) as stack:
            warehouse = _connect_warehouse(stack.url("clickhouse"), settings, wait_s=60.0)
            try:
                for table, what in apply_retention(warehouse, retention_from_env()).items():
                    log.info("retention: %s: %s", table, what)
                metrics = asyncio.run(
                    _serve(stack.url("nats"), warehouse, settings, streams, config, until_idle)
                )
            finally:
                warehouse.close()
        typer.echo(json.dumps(metrics, sort_keys=True))
