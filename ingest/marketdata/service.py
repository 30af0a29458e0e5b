"""The market-data service: providers -> bounded queue -> JetStream, and its shutdown.

Each provider (a Source, possibly a FailoverSource) runs in its own task and hands every
event to the `BackpressureQueue` without waiting. One publisher takes batches from the
queue and publishes one acknowledged message per event type and provider
(`flow.raw.<type>.<provider>`); a failed publish is kept and sent again, unchanged, with
exponential backoff, while the queue absorbs what arrives meanwhile under its policy.

Every event passes the ID bridge (`ingest.bridge`) in the lane of the provider that sent it
(each provider's symbology table is its mapping; a failover pair is two providers) before
the queue; the overrides file is polled every `id_overrides_poll_s`.

`stop()` (SIGINT/SIGTERM) shuts down in order: the providers' WebSockets close, what the
queue holds is published, the NATS connection is flushed. Nothing the queue accepted is
lost; what its policy dropped is on the log as gap events.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from infra.bus import Bus, chunk_events
from infra.health import HealthStatus, HealthTracker
from infra.tasks import cancel_and_wait
from ingest.bridge import DEFAULT_POLL_S, IdBridge, SymbolMapping, mapping_for
from ingest.marketdata.backpressure import BackpressureQueue
from ingest.marketdata.failover import FailoverSource
from ingest.marketdata.metrics import MarketDataMetrics
from ingest.source import Source
from schemas.codec import to_json
from schemas.events import Event
from schemas.subjects import md_subject, raw_subject

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MarketDataConfig:
    run_id: str = "live"
    queue_capacity: int = 100_000
    batch_size: int = 5_000
    flush_interval_s: float = 0.05
    backoff_initial_s: float = 0.1
    backoff_max_s: float = 5.0
    md_subjects: bool = False  # also publish JSON to md.events.{type}.{symbol} (core NATS)
    id_bridge_mode: str = "default"  # or "strict", "shadow" (ingest.bridge.IdBridge)
    id_overrides: Path | None = None  # the operators' id overrides file (TOML or JSON)
    id_overrides_poll_s: float = DEFAULT_POLL_S


def providers_of(sources: list[Source]) -> list[Source]:
    """Each provider behind `sources` (a failover pair is two)."""
    found: list[Source] = []
    for source in sources:
        found += [source.primary, source.backup] if isinstance(source, FailoverSource) else [source]
    return found


class MarketDataService:
    """Publishes the providers' events to RAW until `stop()`, then shuts down in order."""

    def __init__(self, sources: list[Source], bus: Bus, config: MarketDataConfig) -> None:
        self.sources = sources
        self.bus = bus
        self.config = config
        self.queue = BackpressureQueue(config.queue_capacity)
        self.metrics = MarketDataMetrics()
        self.tracker = HealthTracker()
        self.bridge = IdBridge(config.id_bridge_mode, config.id_overrides)
        self._lanes: dict[str, Callable[[Event], Event]] = {
            provider.name: self.bridge.lane(provider.name, mapping_for(provider)).translate
            for provider in providers_of(sources)
        }
        self._bridge_problems = 0
        self.phase = "starting"
        self._stopping = asyncio.Event()
        self._outbox: list[tuple[str, bytes, int]] = []

    def stop(self) -> None:
        self._stopping.set()

    @property
    def idle(self) -> bool:
        """Nothing waits to be published."""
        return self.queue.idle and not self._outbox

    @property
    def health(self) -> HealthStatus:
        if self.queue.degraded or self.metrics.publish_failures and self._outbox:
            return "degraded"
        return "ok"

    def health_report(self) -> dict[str, Any]:
        """The health contract (infra.health), with how long each provider has sent no market
        data."""
        for _ in range(self.bridge.problems - self._bridge_problems):
            self.tracker.error(self.bridge.last_error or "id bridge")
        self._bridge_problems = self.bridge.problems
        now = time.monotonic()
        return self.tracker.report(
            self.health,
            phase=self.phase,
            queue=self.queue.state,
            publishedEvents=self.metrics.published_events,
            providers={
                name: {"silent_s": round(now - seen, 3)}
                for name, seen in sorted(self.metrics.last_data.items())
            },
            idBridge=self.bridge.report(),
        )

    def bus_stats(self) -> dict[str, Any]:
        return {
            **self.queue.stats(),
            "published_events": self.metrics.published_events,
            "published_messages": self.metrics.published_messages,
            "publish_failures": self.metrics.publish_failures,
            "phase": self.phase,
        }

    async def run(self) -> MarketDataMetrics:
        for source in self.sources:
            await source.connect()
        pumps = [asyncio.create_task(self._pump(s), name=f"md-{s.name}") for s in self.sources]
        self.phase = "running"
        publisher = asyncio.create_task(self._publish_until_stopped())
        watcher = asyncio.create_task(self.bridge.watch(self.config.id_overrides_poll_s))
        try:
            await self._stopping.wait()
        finally:
            self.phase = "closing providers"
            for source in self.sources:
                await source.close()
            await cancel_and_wait([watcher, *pumps])
            self.phase = "draining queue"
            await publisher
            self.phase = "flushing bus"
            await self.bus.nc.flush()
            self.phase = "stopped"
        return self.metrics

    async def _pump(self, source: Source) -> None:
        try:
            async for received in source.events():
                event = self._translate(received)
                self.metrics.saw(event)
                self.queue.put(event)
        except Exception:  # a provider that breaks is logged; the others go on
            log.exception("provider %s failed", source.name)

    def _translate(self, event: Event) -> Event:
        """The event through its provider's lane (a lane of recorded symbols for a provider
        that was not listed at start)."""
        name = str(getattr(event, "source", ""))
        lane = self._lanes.get(name)
        if lane is None:
            lane = self._lanes[name] = self.bridge.lane(name, SymbolMapping()).translate
        return lane(event)

    async def _publish_until_stopped(self) -> None:
        """Publish batches until stopped and the queue is empty."""
        backoff = self.config.backoff_initial_s
        while True:
            if not self._outbox:
                if self.phase == "draining queue" and self.queue.idle:
                    return
                await self.queue.wait(self.config.flush_interval_s)
                events = self.queue.take(self.config.batch_size)
                self._outbox = self._messages(events)
                if self.config.md_subjects:
                    await self._publish_md(events)
            try:
                await self._send_outbox()
            except Exception as exc:  # the log is unreachable: keep the messages, back off
                self.metrics.publish_failures += 1
                self.tracker.error(f"publish: {exc!r}"[:500])
                log.warning("publish failed (%r); retrying in %.1fs", exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, self.config.backoff_max_s)
                continue
            backoff = self.config.backoff_initial_s

    def _messages(self, events: list[Event]) -> list[tuple[str, bytes, int]]:
        groups: dict[tuple[type[Event], str], list[Event]] = defaultdict(list)
        for event in events:
            groups[(type(event), str(getattr(event, "source", "")))].append(event)
        return [
            (raw_subject(event_type, source), body, count)
            for (event_type, source), group in groups.items()
            for count, body in chunk_events(group)
        ]

    async def _publish_md(self, events: list[Event]) -> None:
        """The compatibility subjects: one JSON event per message, no acknowledgement (their
        consumers subscribe with a queue group; the log is the record)."""
        for event in events:
            subject = md_subject(event)
            if subject is not None:
                await self.bus.nc.publish(subject, to_json(event))
                self.metrics.md_messages += 1

    async def _send_outbox(self) -> None:
        while self._outbox:
            subject, body, count = self._outbox[0]
            await self.bus.publish_body(subject, body, run_id=self.config.run_id)
            self._outbox.pop(0)
            self.metrics.published_messages += 1
            self.metrics.published_events += count
        self.metrics.last_publish_wall_ns = time.time_ns()
        self.tracker.cycle()
