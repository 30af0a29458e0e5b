"""The sink as a service: `Sink` runs one consumer per stream and keeps the metrics file;
`run_sink` is the `flowtape sink` process around it (connect, migrate, retention, signals)."""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from collections.abc import Iterable
from pathlib import Path

from nats.js.errors import NotFoundError

from infra.bus import Bus
from infra.files import write_json_atomically
from infra.health import health_served
from infra.migrate import migrate
from infra.settings import Settings
from infra.warehouse import Warehouse
from live.sink.config import SinkConfig
from live.sink.consumer import StreamSink
from live.sink.errors import SinkError
from live.sink.health import SinkHealth
from live.sink.metrics import SinkMetrics, StreamMetrics
from live.sink.positions import STREAM_EVENTS
from live.sink.retention import apply_retention, retention_from_settings
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

log = logging.getLogger("flowtape.sink")

METRICS_FILE = "sink-metrics.json"  # in the data folder; the API can serve it


class Sink:
    """RAW and DERIVED into ClickHouse, one consumer per stream, exactly once.

    In-process use: `await Sink(bus, warehouse).run_until_idle()` stores everything the
    streams hold and returns; `await sink.run(stop_event)` runs until the event is set.
    """

    def __init__(
        self,
        bus: Bus,
        warehouse: Warehouse,
        *,
        config: SinkConfig | None = None,
        streams: Iterable[str] = (RAW_STREAM, DERIVED_STREAM),
        metrics_path: Path | None = None,
    ) -> None:
        self.bus = bus
        self.warehouse = warehouse
        self.config = config or SinkConfig()
        self.metrics_path = metrics_path
        self.metrics = SinkMetrics()
        self.consumers: list[StreamSink] = []
        for stream in streams:
            if stream not in STREAM_EVENTS:
                raise SinkError(f"expected a stream among {sorted(STREAM_EVENTS)}, got {stream!r}")
            self.metrics.streams[stream] = StreamMetrics(stream)
            self.consumers.append(
                StreamSink(bus, warehouse, stream, self.config, self.metrics.streams[stream])
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; pending rows are flushed when ClickHouse allows."""

        async def relay() -> None:
            await stop.wait()
            for consumer in self.consumers:
                consumer.stop.set()

        relay_task = asyncio.create_task(relay())
        writer_task = asyncio.create_task(self._write_metrics_periodically())
        try:
            async with asyncio.TaskGroup() as group:
                for consumer in self.consumers:
                    group.create_task(consumer.run(until_idle=False))
        finally:
            relay_task.cancel()
            writer_task.cancel()
            self.write_metrics()

    def write_metrics(self) -> None:
        """Write the metrics as JSON to `metrics_path` (atomically), for other processes."""
        if self.metrics_path is None:
            return
        payload = {"updated_ns": time.time_ns(), "streams": self.metrics.as_dict()}
        try:
            write_json_atomically(self.metrics_path, payload, sort_keys=True)
        except OSError as exc:
            log.warning("cannot write sink metrics to %s: %s", self.metrics_path, exc)

    async def _write_metrics_periodically(self) -> None:
        while self.metrics_path is not None:
            await asyncio.sleep(self.config.metrics_every_s)
            self.write_metrics()

    async def run_until_idle(self) -> SinkMetrics:
        """Store everything the streams hold now, then return the metrics."""
        async with asyncio.TaskGroup() as group:
            for consumer in self.consumers:
                group.create_task(consumer.run(until_idle=True))
        self.write_metrics()
        return self.metrics


def run_sink(
    nats_url: str,
    clickhouse_url: str,
    settings: Settings,
    *,
    streams: list[str],
    config: SinkConfig,
    until_idle: bool,
    health_port: int | None = None,
) -> dict[str, object]:
    """`flowtape sink`: apply the retention settings, then store the streams until SIGTERM or
    SIGINT (or, with `until_idle`, until caught up), serving `/health` on 127.0.0.1:
    `health_port` when given; returns the metrics."""
    warehouse = _connect_warehouse(clickhouse_url, settings, wait_s=60.0)
    try:
        for table, what in apply_retention(warehouse, retention_from_settings(settings)).items():
            log.info("retention: %s: %s", table, what)
        return asyncio.run(
            _serve(nats_url, warehouse, settings, streams, config, until_idle, health_port)
        )
    finally:
        warehouse.close()


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


async def _ensure_streams(bus: Bus) -> None:
    for stream in (RAW_STREAM, DERIVED_STREAM):
        try:
            await bus.js.stream_info(stream)
        except NotFoundError:
            await bus.ensure_streams()
            return


async def _serve(
    nats_url: str, warehouse: Warehouse, settings: Settings, streams: list[str],
    config: SinkConfig, until_idle: bool, health_port: int | None,
) -> dict[str, object]:  # fmt: skip
    bus = await Bus.connect(nats_url, name="flowtape-sink")
    try:
        await _ensure_streams(bus)
        metrics_path = settings.data_dir.resolve() / METRICS_FILE
        sink = Sink(bus, warehouse, config=config, streams=streams, metrics_path=metrics_path)
        health = SinkHealth(sink)
        async with health_served(health.report, health_port, observe=health.observe):
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
