"""The compute service's `/health` (the infra.health contract).

- `down`: not reading RAW: still restoring its checkpoint (Redis unreachable at start keeps
  it there), or NATS is unreachable (it can neither read RAW nor publish DERIVED);
- `degraded`: reading, but Redis is unreachable (checkpoints fail; the service holds its
  place, so its lag grows) or it is more than `max_lag_messages` RAW messages behind the
  stream's end (catching up after a restart counts: it is visibly behind);
- `ok` otherwise, idle included.

A batch processed is a cycle; a failed Redis call, a poison message or a failed look at RAW
an error. Its own fields: `watermark` (the reorder buffer's, in event time), `lateEvents`,
`position` (the last RAW sequence processed; checkpointed within a second), `rawLastSeq`,
`lag` (RAW messages behind), `lastCheckpoint` (wall clock) and `waitingForRedis`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.health import HealthStatus, HealthTracker, iso_utc

if TYPE_CHECKING:
    from live.compute_service import ComputeService

DEFAULT_MAX_LAG_MESSAGES = 2_000


class ComputeHealth:
    """Watches a running `ComputeService`'s metrics."""

    def __init__(
        self,
        service: ComputeService,
        *,
        max_lag_messages: int = DEFAULT_MAX_LAG_MESSAGES,
        tracker: HealthTracker | None = None,
    ) -> None:
        if max_lag_messages < 0:
            raise ValueError(f"max_lag_messages must be >= 0, got {max_lag_messages}")
        self.service = service
        self.max_lag_messages = max_lag_messages
        self.tracker = tracker or HealthTracker()

    def observe(self) -> None:
        """Bring the tracker up to date with the batches and failures since the last look."""
        metrics = self.service.metrics
        self.tracker.follow(metrics.batches, metrics.failures, metrics.last_failure)

    def lag(self) -> int:
        metrics = self.service.metrics
        return max(0, metrics.raw_last_seq - metrics.position)

    def status(self) -> HealthStatus:
        metrics = self.service.metrics
        if not metrics.reading or not self.service.bus.nc.is_connected:
            return "down"
        if metrics.waiting_for_redis or self.lag() > self.max_lag_messages:
            return "degraded"
        return "ok"

    def report(self) -> dict[str, Any]:
        self.observe()
        metrics = self.service.metrics
        watermark = metrics.watermark_ns / 1e9 if metrics.watermark_ns >= 0 else None
        return self.tracker.report(
            self.status(),
            watermark=iso_utc(watermark),
            lateEvents=metrics.late_events,
            position=metrics.position,
            rawLastSeq=metrics.raw_last_seq,
            lag=self.lag(),
            maxLag=self.max_lag_messages,
            lastCheckpoint=iso_utc(metrics.last_checkpoint_at),
            waitingForRedis=metrics.waiting_for_redis,
            batches=metrics.batches,
            rawEvents=metrics.raw_events,
            outputs=metrics.outputs,
        )
