"""The ingest service: one source into the RAW stream.

Events from the source collect in an `IngestBuffer`; a publisher drains it every
`flush_interval_s` (or sooner when `batch_size` events wait) into one acknowledged message
per event type (`flow.raw.<type>.<source>`). When the log is unreachable the drained
messages are kept and resent unchanged, with exponential backoff, while new events wait in
the buffer under its loss policy.

Partitions: given a `Partitioner` of more than one partition (the composition root passes
`compute.flow.shards.Router` with stable placement), the options-flow events are split by
underlying into one message per partition (`flow.raw.<type>.<source>.p<k>`), and the events
every partition needs (heartbeats, gaps) go to `...<source>.all`; other systems' events keep
their subjects.

Repeats: on start the service reads the last message of each of its subjects and skips
every event at or below those high-water marks (schemas.ordering.admit), so a source that
replays its session after JetStream's duplicate window still adds nothing to the log.
Inside the window JetStream's `Nats-Msg-Id` deduplication drops a retried message. Skips
are counted and logged as a warning (at most once per `repeat_warning_interval_s`); a
source that can start elsewhere (`ResumableSource`, e.g. a generated market) is told the
newest event time the log holds for it, so it does not replay what is there.

Ids: every admitted event passes the ID bridge (`ingest.bridge`) in its source's lane: an
id the source's own mapping (or an operator's override) does not map is quarantined
(`unmapped_id`) unless the bridge runs in shadow mode. The overrides file is polled every
`id_overrides_poll_s` and reloaded when it changes.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from collections import Counter, defaultdict, deque
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from nats.js.errors import NotFoundError

from infra.bus import Bus, chunk_events
from infra.files import write_json_atomically
from infra.tasks import cancel_and_wait
from ingest.bridge import DEFAULT_POLL_S, IdBridge, mapping_for
from ingest.buffer import IngestBuffer
from ingest.source import Source
from schemas.book import BOOK_RAW_EVENTS
from schemas.cme import CME_RAW_EVENTS
from schemas.codec import decode_batch
from schemas.crypto import CRYPTO_RAW_EVENTS
from schemas.events import RAW_EVENTS, Event, Heartbeat, Quarantined
from schemas.ordering import HighWater, admit
from schemas.subjects import (
    BROADCAST_EVENTS,
    BROADCAST_PARTITION,
    PARTITIONED_EVENTS,
    RAW_STREAM,
    partition_token,
    partitioned_raw_subject,
    raw_subject,
)

log = logging.getLogger(__name__)

# In the data folder, one per source; the API's /health reads them.
METRICS_FILE = "ingest-metrics-{source}.json"


@runtime_checkable
class ResumableSource(Protocol):
    """A source that can start its stream after a given event time."""

    def resume_after(self, ts_recv: int) -> None: ...


@dataclass
class IngestMetrics:
    """Counters a /metrics endpoint or a status line can show."""

    events: Counter[str] = field(default_factory=Counter)
    published_messages: int = 0
    repeats_skipped: int = 0
    quarantined: int = 0
    quarantine_reasons: Counter[str] = field(default_factory=Counter)
    publish_failures: int = 0
    last_ts_recv: int = 0
    last_publish_wall_ns: int = 0

    def lag_ns(self) -> int:
        """Wall clock minus the newest event time seen (0 before any event)."""
        return time.time_ns() - self.last_ts_recv if self.last_ts_recv else 0

    def as_dict(self) -> dict[str, Any]:
        """The counters as plain JSON data."""
        return {
            "events": dict(self.events),
            "published_messages": self.published_messages,
            "repeats_skipped": self.repeats_skipped,
            "quarantined": self.quarantined,
            "quarantine_reasons": dict(self.quarantine_reasons),
            "publish_failures": self.publish_failures,
            "last_ts_recv": self.last_ts_recv,
            "last_publish_wall_ns": self.last_publish_wall_ns,
        }


class Partitioner(Protocol):
    """Splits a batch of options-flow events into one list per partition, in batch order."""

    shards: int

    def route(self, batch: Sequence[Event]) -> list[list[Event]]: ...


@dataclass
class IngestConfig:
    run_id: str = "live"
    batch_size: int = 5_000
    flush_interval_s: float = 0.05
    buffer_capacity: int = 1_000_000
    heartbeat_interval_s: float = 5.0
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    reconnect: bool = False  # live sources: reconnect after a failure instead of ending
    repeat_warning_interval_s: float = 10.0
    metrics_every_s: float = 1.0
    id_bridge_mode: str = "default"  # or "strict", "shadow" (ingest.bridge.IdBridge)
    id_overrides: Path | None = None  # the operators' id overrides file (TOML or JSON)
    id_overrides_poll_s: float = DEFAULT_POLL_S


class IngestService:
    """Publishes one source's events to RAW until the source ends or `stop()` is called."""

    def __init__(
        self,
        source: Source,
        bus: Bus,
        config: IngestConfig | None = None,
        *,
        metrics_path: Path | None = None,
        partitioner: Partitioner | None = None,
    ) -> None:
        self.source = source
        self.bus = bus
        self.config = config or IngestConfig()
        self.metrics_path = metrics_path
        self.buffer = IngestBuffer(self.config.buffer_capacity, source.name)
        self.metrics = IngestMetrics()
        self.bridge = IdBridge(self.config.id_bridge_mode, self.config.id_overrides)
        self._translate = self.bridge.lane(source.name, mapping_for(source)).translate
        self.high_water: HighWater = {}
        self.log_ts_recv = 0  # the newest event time of this source on the log
        self._unreported_repeats = 0
        self._last_repeat_warning = -math.inf
        self._stopping = asyncio.Event()
        self._source_done = asyncio.Event()
        self._wake = asyncio.Event()
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._last_event_monotonic_ns = 0
        self._router = partitioner if partitioner is not None and partitioner.shards > 1 else None

    @property
    def health(self) -> str:
        if self.buffer.degraded:
            return "degraded"
        return "retrying" if self.buffer.stalled else "ok"

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    async def load_high_water(self) -> None:
        """Marks from the last message of each of this source's subjects on the log."""
        for event_type in RAW_EVENTS + CRYPTO_RAW_EVENTS + BOOK_RAW_EVENTS + CME_RAW_EVENTS:
            # partitioned, the newest event of a type is in the last message of one partition
            for subject, _ in self._by_subject(event_type, []):
                try:
                    message = await self.bus.js.get_last_msg(RAW_STREAM, subject)
                except NotFoundError:
                    continue
                for event in decode_batch(message.data or b""):
                    admit(self.high_water, event)
                    self.log_ts_recv = max(self.log_ts_recv, event.ts_recv)

    async def run(self) -> IngestMetrics:
        await self.load_high_water()
        if self.log_ts_recv and isinstance(self.source, ResumableSource):
            log.info("source %s resumes after ts_recv %d", self.source.name, self.log_ts_recv)
            self.source.resume_after(self.log_ts_recv)
        if not await self._unless_stopped(self.source.connect()):
            self.write_metrics()
            return self.metrics
        pump = asyncio.create_task(self._pump(), name=f"ingest-pump-{self.source.name}")
        writer = asyncio.create_task(self._write_metrics_periodically())
        watcher = asyncio.create_task(self.bridge.watch(self.config.id_overrides_poll_s))
        try:
            await self._publish_loop()
        finally:
            await cancel_and_wait([pump, writer, watcher])
            await self.source.close()
            if self._unreported_repeats:
                self._warn_repeats(time.monotonic())
            self.write_metrics()
        return self.metrics

    async def _unless_stopped(self, work: Awaitable[None]) -> bool:
        """Await `work` unless `stop()` comes first, and then cancel it (a stop is not held
        up by a source still connecting, or generating its session); whether it finished."""
        task = asyncio.ensure_future(work)
        stopping = asyncio.create_task(self._stopping.wait())
        await asyncio.wait({task, stopping}, return_when=asyncio.FIRST_COMPLETED)
        stopping.cancel()
        if task.done():
            task.result()  # what the work raised, raised here
            return True
        await cancel_and_wait([task])
        return False

    def write_metrics(self) -> None:
        """Write the metrics as JSON to `metrics_path` (atomically), for other processes."""
        if self.metrics_path is None:
            return
        payload = {
            "updated_ns": time.time_ns(),
            "source": self.source.name,
            "health": self.health,
            **self.metrics.as_dict(),
            "id_bridge": self.bridge.report(),
        }
        try:
            write_json_atomically(self.metrics_path, payload, sort_keys=True)
        except OSError as exc:
            log.warning("cannot write ingest metrics to %s: %s", self.metrics_path, exc)

    async def _write_metrics_periodically(self) -> None:
        while self.metrics_path is not None:
            self.write_metrics()
            await asyncio.sleep(self.config.metrics_every_s)

    async def _pump(self) -> None:
        """Source events into the buffer; a live source that fails is reconnected with
        exponential backoff, each failure leaving a quarantine record on the log."""
        backoff = self.config.backoff_initial_s
        try:
            while not self._stopping.is_set():
                try:
                    async for event in self.source.events():
                        self._accept(event)
                        backoff = self.config.backoff_initial_s
                        if len(self.buffer) >= self.config.batch_size:
                            self._wake.set()
                        if self._stopping.is_set():
                            return
                        await asyncio.sleep(0)  # let the publisher run between fast events
                    return
                except Exception as exc:  # a broken source is reported on the log
                    log.exception("source %s failed", self.source.name)
                    self._accept(
                        Quarantined(
                            ts_recv=time.time_ns(),
                            source=self.source.name,
                            reason="source_error",
                            detail=f"{type(exc).__name__}: {exc}",
                        )
                    )
                    if not self.config.reconnect:
                        return
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.backoff_max_s)
                await self.source.close()
                await self.source.connect()
        finally:
            self._source_done.set()
            self._wake.set()

    def _source_now(self) -> int:
        """The source's clock: its newest event time plus the wall time since it arrived
        (a recorded session paced into the log keeps its own dates)."""
        elapsed = time.monotonic_ns() - self._last_event_monotonic_ns
        return self.metrics.last_ts_recv + max(elapsed, 0)

    def _accept(self, event: Event) -> None:
        if not admit(self.high_water, event):
            self.metrics.repeats_skipped += 1
            self._unreported_repeats += 1
            now = time.monotonic()
            if now - self._last_repeat_warning >= self.config.repeat_warning_interval_s:
                self._warn_repeats(now)
            return
        event = self._translate(event)
        self.metrics.events[type(event).__name__] += 1
        if isinstance(event, Quarantined):
            self.metrics.quarantined += 1
            self.metrics.quarantine_reasons[event.reason] += 1
        ts_recv = event.ts_recv
        if ts_recv > self.metrics.last_ts_recv:
            self.metrics.last_ts_recv = ts_recv
            self._last_event_monotonic_ns = time.monotonic_ns()
        self.buffer.add(event)

    def _warn_repeats(self, now: float) -> None:
        log.warning(
            "source %s: %d events skipped as repeats (at or below the log's high-water mark; "
            "%d since start)",
            self.source.name,
            self._unreported_repeats,
            self.metrics.repeats_skipped,
        )
        self._unreported_repeats = 0
        self._last_repeat_warning = now

    async def _publish_loop(self) -> None:
        backoff = self.config.backoff_initial_s
        last_activity = time.monotonic()
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.flush_interval_s)
            except TimeoutError:
                pass
            self._wake.clear()
            if not self._outbox:
                if not len(self.buffer):
                    if self._source_done.is_set() or self._stopping.is_set():
                        return
                    if time.monotonic() - last_activity < self.config.heartbeat_interval_s:
                        continue
                    if not self.metrics.last_ts_recv:
                        continue  # no source clock yet to tell the time by
                    self.buffer.add(Heartbeat(ts_recv=self._source_now(), source=self.source.name))
                self._outbox.extend(self._messages(self.buffer.drain()))
            try:
                await self._send_outbox()
            except Exception as exc:  # the log is unreachable: keep, back off, retry
                self.metrics.publish_failures += 1
                self.buffer.stalled = True
                log.warning("publish failed (%r); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.backoff_max_s)
                continue
            self.buffer.stalled = False
            backoff = self.config.backoff_initial_s
            last_activity = time.monotonic()

    def _messages(self, events: list[Event]) -> list[tuple[str, bytes]]:
        """One message (a few, when large) per event type present."""
        by_type: dict[type[Event], list[Event]] = defaultdict(list)
        for event in events:
            by_type[type(event)].append(event)
        return [
            (subject, body)
            for event_type, group in by_type.items()
            for subject, part in self._by_subject(event_type, group)
            for _, body in chunk_events(part)
        ]

    def _by_subject(
        self, event_type: type[Event], events: list[Event]
    ) -> list[tuple[str, list[Event]]]:
        """The events of one type by subject: one, or one per partition holding any (with
        no events: every subject of the type)."""
        source = self.source.name
        if self._router is None or event_type not in PARTITIONED_EVENTS:
            return [(raw_subject(event_type, source), events)]
        if event_type in BROADCAST_EVENTS:
            return [(partitioned_raw_subject(event_type, source, BROADCAST_PARTITION), events)]
        return [
            (partitioned_raw_subject(event_type, source, partition_token(k)), part)
            for k, part in enumerate(self._router.route(events))
            if part or not events
        ]

    async def _send_outbox(self) -> None:
        """Send retained messages in order; a failed one stays first, byte for byte, so its
        resend is deduplicated by JetStream if the first attempt did land."""
        while self._outbox:
            subject, body = self._outbox[0]
            await self.bus.publish_body(subject, body, run_id=self.config.run_id)
            self._outbox.popleft()
            self.metrics.published_messages += 1
        self.metrics.last_publish_wall_ns = time.time_ns()
