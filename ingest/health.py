"""An ingest service's `/health`: degraded while the log refuses its messages (it buffers and
retries) or its buffer sheds events; events/s, repeats skipped, the last event time, the
quarantine by reason and the ID bridge's counters (a failed overrides reload or a refused
override is an error)."""

from __future__ import annotations

import time
from typing import Any

from infra.health import HealthStatus, HealthTracker, iso_utc
from ingest.service import IngestService


class IngestHealth:
    """Watches an `IngestService`: a published message is a cycle, a failed publish an error."""

    def __init__(self, service: IngestService, tracker: HealthTracker | None = None) -> None:
        self.service = service
        self.tracker = tracker or HealthTracker()
        self._rate_from = (time.monotonic(), 0)
        self._bridge_problems = 0
        self.events_per_s = 0.0

    def observe(self) -> None:
        """Catch up with the service's counters; the event rate is over the last look."""
        metrics = self.service.metrics
        self.tracker.follow(metrics.published_messages, metrics.publish_failures, "publish failed")
        bridge = self.service.bridge
        for _ in range(bridge.problems - self._bridge_problems):
            self.tracker.error(bridge.last_error or "id bridge")
        self._bridge_problems = bridge.problems
        now, events = time.monotonic(), sum(metrics.events.values())
        since, before = self._rate_from
        if now - since >= 1.0:
            self.events_per_s = (events - before) / (now - since)
            self._rate_from = (now, events)

    def status(self) -> HealthStatus:
        buffer = self.service.buffer
        return "degraded" if buffer.stalled or buffer.degraded else "ok"

    def report(self) -> dict[str, Any]:
        self.observe()
        metrics = self.service.metrics
        return self.tracker.report(
            self.status(),
            source=self.service.source.name,
            eventsPerSecond=round(self.events_per_s, 3),
            events=sum(metrics.events.values()),
            repeatsSkipped=metrics.repeats_skipped,
            quarantined=metrics.quarantined,
            quarantinedByReason=dict(metrics.quarantine_reasons),
            lastEventTime=iso_utc(metrics.last_ts_recv / 1e9 if metrics.last_ts_recv else None),
            buffered=len(self.service.buffer),
            idBridge=self.service.bridge.report(),
        )
