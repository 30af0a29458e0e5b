"""The recorder service: RAW into Parquet, rotated atomically, resumable after any crash.

A rotation writes every pending partition as one file, then commits the log position. After
`kill -9` the recorder removes what the unfinished rotation left, rebuilds its candles and
books from the recorded events of the last days, and reads RAW again after the committed
position: the files it writes are the ones an uninterrupted run writes.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import time
from dataclasses import dataclass, field
from pathlib import Path

from compute.candles import BufferConfig
from infra.bus import Bus
from infra.health import health_served
from infra.recording import (
    clean,
    commit_position,
    committed_position,
    part_name,
    partition,
    read_events,
    write_atomically,
)
from live.recorder.health import RecorderHealth
from live.recorder.recording import Recording
from schemas.subjects import RAW_STREAM

log = logging.getLogger(__name__)
_DAY_NS = 86_400 * 1_000_000_000


@dataclass(frozen=True)
class RecorderConfig:
    root: Path
    rotate_rows: int = 200_000  # write files once this many rows are pending ...
    rotate_seconds: float = 60.0  # ... or the oldest pending row waited this long
    snapshot_every_ns: int = 1_000_000_000  # one book snapshot per book per second of events
    snapshot_depth: int = 10
    buffers: BufferConfig = field(default_factory=BufferConfig)
    fetch_messages: int = 256


@dataclass
class RecorderMetrics:
    messages: int = 0
    events: int = 0
    poison_messages: int = 0
    files: int = 0
    rotations: int = 0
    position: int = 0
    restored_events: int = 0
    removed_on_start: int = 0


class Recorder:
    def __init__(self, bus: Bus, config: RecorderConfig) -> None:
        self.bus = bus
        self.config = config
        self.metrics = RecorderMetrics()
        self.recording = Recording(config.buffers, snapshot_every_ns=config.snapshot_every_ns,
                                   snapshot_depth=config.snapshot_depth)  # fmt: skip
        self._stopping = asyncio.Event()
        self._rotated = 0  # the position of the last rotation

    def stop(self) -> None:
        self._stopping.set()

    def _restore(self) -> None:
        """Rebuild the open candles and books from the recorded events of the last days."""
        root = self.config.root
        dates = sorted(p.name.removeprefix("date=") for p in root.glob("date=*"))
        if not dates:
            return
        longest = max(length for _, length in self.recording.market.buffers.intervals)
        last = dt.date.fromisoformat(dates[-1])
        first = last - dt.timedelta(days=-(-longest // _DAY_NS))
        wanted = [d for d in dates if d >= first.isoformat()]
        for event in read_events(root, dates=wanted):
            self.recording.apply(0, [event])
            self.metrics.restored_events += 1
        self.recording.pending.take()  # already written

    def _rotate(self, position: int) -> None:
        if position <= self._rotated:
            return
        first = self._rotated + 1
        for (date, venue, kind), table in self.recording.pending.take().items():
            path = partition(self.config.root, date, venue, kind) / part_name(first, position)
            write_atomically(path, table)
            self.metrics.files += 1
        commit_position(self.config.root, position)
        self._rotated = position
        self.metrics.rotations += 1

    async def run(self, *, until_idle: bool = False) -> RecorderMetrics:
        root = self.config.root
        root.mkdir(parents=True, exist_ok=True)
        position = committed_position(root)
        self.metrics.removed_on_start = len(clean(root, position))
        self._restore()
        self._rotated = self.metrics.position = position
        reader = await self.bus.reader(RAW_STREAM, start_seq=position + 1)
        oldest_pending = time.monotonic()
        try:
            while not self._stopping.is_set():
                if until_idle and await self.bus.last_sequence(RAW_STREAM) <= position:
                    break
                for message in await reader.fetch(self.config.fetch_messages, timeout_s=0.5):
                    if self.recording.pending.count == 0:
                        oldest_pending = time.monotonic()
                    self.metrics.messages += 1
                    if message.error is not None:
                        self.metrics.poison_messages += 1
                        log.warning("RAW %d is poison: %s", message.stream_seq, message.error)
                    else:
                        self.recording.apply(message.stream_seq, message.events)
                        self.metrics.events += len(message.events)
                    position = self.metrics.position = message.stream_seq
                    if self.recording.pending.count >= self.config.rotate_rows:
                        self._rotate(position)
                if time.monotonic() - oldest_pending >= self.config.rotate_seconds:
                    self._rotate(position)
            self._rotate(position)
        finally:
            await reader.close()
        return self.metrics


async def run_recorder(
    nats_url: str, config: RecorderConfig, *, until_idle: bool, duplicate_window_s: float,
    health_port: int | None = None,
) -> RecorderMetrics:  # fmt: skip
    bus = await Bus.connect(nats_url, name="flowtape-recorder")
    try:
        await bus.ensure_streams(duplicate_window_s=duplicate_window_s)
        recorder = Recorder(bus, config)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, recorder.stop)
        health = RecorderHealth(recorder)
        async with health_served(health.report, health_port, observe=health.observe):
            return await recorder.run(until_idle=until_idle)
    finally:
        await bus.close()
