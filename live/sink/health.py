"""The sink's `/health`: `degraded` while ClickHouse is away (the lag growing in plain sight),
`down` while NATS is, with position and lag per stream and the whole `backlogSize`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.health import HealthStatus, HealthTracker

if TYPE_CHECKING:
    from live.sink.service import Sink


class SinkHealth:
    """Watches a running `Sink`'s metrics: a stored batch is a cycle, a retry an error."""

    def __init__(self, sink: Sink, tracker: HealthTracker | None = None) -> None:
        self.sink = sink
        self.tracker = tracker or HealthTracker()

    def observe(self) -> None:
        """Bring the tracker up to date with what the consumers did since the last look."""
        streams = self.sink.metrics.streams.values()
        last = next((m.last_error for m in streams if m.last_error), "retrying")
        self.tracker.follow(sum(m.batches for m in streams), sum(m.retries for m in streams), last)

    def status(self) -> HealthStatus:
        if not self.sink.bus.nc.is_connected:
            return "down"
        if any(m.waiting_for_clickhouse for m in self.sink.metrics.streams.values()):
            return "degraded"
        return "ok"

    def report(self) -> dict[str, Any]:
        self.observe()
        streams = self.sink.metrics.streams
        return self.tracker.report(
            self.status(),
            streams={
                name: {"position": m.position, "lastSeq": m.last_seq, "lag": m.lag}
                for name, m in streams.items()
            },
            backlogSize=sum(m.lag for m in streams.values()),
            waitingForClickHouse=any(m.waiting_for_clickhouse for m in streams.values()),
            quarantined=sum(m.quarantined for m in streams.values()),
        )
