"""The daemon: the RAW log into memory, served on the Unix socket until stopped.

It reads RAW from the start of what the stream keeps (an MBO book is only right when built
from its session's start), skipping the trades that seeding from ClickHouse already counted.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from compute.candles import Market
from infra.bus import Bus
from infra.health import health_served
from infra.warehouse import Warehouse
from live.daemon.config import DaemonSettings
from live.daemon.health import DaemonHealth
from live.daemon.seed import Seeded, seed_buffers
from live.daemon.server import DaemonServer
from schemas.events import Event
from schemas.subjects import RAW_STREAM

log = logging.getLogger(__name__)
REPORT_EVERY_S = 60.0


@dataclass
class DaemonMetrics:
    messages: int = 0
    events: int = 0
    poison_messages: int = 0
    seeded_skipped: int = 0
    position: int = 0


class Daemon:
    """Reads RAW from `start_seq` into the market and publishes each batch's changes; trades
    of a type in `seeded` are skipped up to the position given there."""

    def __init__(self, bus: Bus, server: DaemonServer, *, start_seq: int, fetch_messages: int,
                 seeded: dict[type[Event], int] | None = None) -> None:  # fmt: skip
        self.bus = bus
        self.server = server
        self.market = server.market
        self.start_seq = start_seq
        self.seeded = seeded or {}
        self._seeded_until = max(self.seeded.values(), default=0)
        self.fetch_messages = fetch_messages
        self.metrics = DaemonMetrics(position=start_seq - 1)
        self.ready = asyncio.Event()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self) -> DaemonMetrics:
        await self.server.start()
        reader = await self.bus.reader(RAW_STREAM, start_seq=self.start_seq)
        self.ready.set()
        log.info("daemon: serving %s, reading RAW from %d", self.server.path, self.start_seq)
        next_report = time.monotonic() + REPORT_EVERY_S
        try:
            while not self._stopping.is_set():
                fetch = asyncio.ensure_future(reader.fetch(self.fetch_messages, timeout_s=0.5))
                stop = asyncio.ensure_future(self._stopping.wait())
                await asyncio.wait((fetch, stop), return_when=asyncio.FIRST_COMPLETED)
                stop.cancel()
                if not fetch.done():
                    fetch.cancel()
                    break
                for message in fetch.result():
                    self.metrics.messages += 1
                    self.metrics.position = message.stream_seq
                    if message.error is not None:
                        self.metrics.poison_messages += 1
                        log.warning("RAW %d is poison: %s", message.stream_seq, message.error)
                        continue
                    events = message.events
                    if message.stream_seq <= self._seeded_until:
                        events = self._unseeded(message.stream_seq, events)
                    self.metrics.events += len(events)
                    self.server.publish(self.market.apply(events))
                if time.monotonic() >= next_report:
                    self._report()
                    next_report = time.monotonic() + REPORT_EVERY_S
        finally:
            await reader.close()
            await self.server.close()
        return self.metrics

    def _report(self) -> None:
        """One line of what came in, what was set aside and how the clients fare."""
        m, s = self.metrics, self.server.stats
        log.info(
            "daemon: RAW %d, %d events (%d poison messages, %d late trades not in candles); "
            "%d connections, %d requests, %d errors, %d dropped slow, %d closed for bad frames",
            m.position, m.events, m.poison_messages, self.market.buffers.late_trades,
            s.connections, s.requests, s.errors, s.dropped_slow, s.closed_for_bad_frames,
        )  # fmt: skip

    def _unseeded(self, seq: int, events: list[Event]) -> list[Event]:
        seeded = self.seeded
        kept = [e for e in events if seq > seeded.get(type(e), 0)]
        self.metrics.seeded_skipped += len(events) - len(kept)
        return kept


async def run_daemon(
    nats_url: str,
    warehouse: Warehouse | None,
    daemon_settings: DaemonSettings,
    *,
    run_id: str,
    socket_path: Path,
    duplicate_window_s: float,
) -> DaemonMetrics:
    """Seed (when a warehouse is given), serve and consume until SIGINT or SIGTERM."""
    market = Market(daemon_settings.buffers())
    server = DaemonServer(market, daemon_settings, socket_path)
    await server.start()  # a socket that cannot be had fails before anything else is done
    try:
        seeded = Seeded()
        if warehouse is not None:
            seeded = seed_buffers(warehouse, market.buffers, run_id)
            log.info("daemon: seeded %d series, %d candles", seeded.series, seeded.candles)
            gc.freeze()  # the seeded history stays out of every later collection's scan
        bus = await Bus.connect(nats_url, name="flowtape-daemon")
        try:
            await bus.ensure_streams(duplicate_window_s=duplicate_window_s)
            fetch = daemon_settings.fetch_messages
            daemon = Daemon(bus, server, start_seq=1, fetch_messages=fetch, seeded=seeded.through)
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, daemon.stop)
            health = DaemonHealth(daemon)
            async with health_served(
                health.report, daemon_settings.health_port, observe=health.observe
            ):
                return await daemon.run()
        finally:
            await bus.close()
    finally:
        await server.close()
