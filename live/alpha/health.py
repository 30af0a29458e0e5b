"""The alpha service's `/health` (the infra.health contract).

- `down`: not reading RAW (restoring, stopped or failed) or NATS is unreachable;
- `degraded`: reading, but a root's latest frame says `stale_chain` (its reason is in
  `lastFrames`): the frames go on, and they say the chain cannot be trusted;
- `ok` otherwise, idle included.

A batch processed (and checkpointed) is a cycle; a poison message or a failure that stopped
the engine is an error. Its own fields: `watermark` (the reorder buffer's, in event time),
`lateEvents`, `position` (the last RAW sequence consumed), `framesEmitted`, `lastFrames`
(per root: the latest frame's time, health and reason), `lastCheckpoint` (wall clock),
`batches`, `rawEvents` and `repeatsDropped`.
"""

from __future__ import annotations

from typing import Any

from infra.health import HealthStatus, HealthTracker, iso_utc
from live.alpha.service import AlphaService


class AlphaHealth:
    """Watches a running `AlphaService`'s metrics."""

    def __init__(self, service: AlphaService, tracker: HealthTracker | None = None) -> None:
        self.service = service
        self.tracker = tracker or HealthTracker()

    def observe(self) -> None:
        """Bring the tracker up to date with the batches and failures since the last look."""
        metrics = self.service.metrics
        self.tracker.follow(metrics.batches, metrics.failures, metrics.last_failure)

    def status(self) -> HealthStatus:
        if not self.service.metrics.reading or not self.service.bus.nc.is_connected:
            return "down"
        if any(f.health != "ok" for f in self.service.metrics.last_frames.values()):
            return "degraded"
        return "ok"

    def report(self) -> dict[str, Any]:
        self.observe()
        metrics = self.service.metrics
        watermark = metrics.watermark_ns / 1e9 if metrics.watermark_ns >= 0 else None
        last_frames = {
            root: {
                "ts": frame.ts_recv,
                "time": iso_utc(frame.ts_recv / 1e9),
                "health": frame.health,
                "reason": frame.health_reason,
            }
            for root, frame in sorted(metrics.last_frames.items())
        }
        return self.tracker.report(
            self.status(),
            watermark=iso_utc(watermark),
            lateEvents=metrics.late_events,
            position=metrics.position,
            framesEmitted=metrics.frames,
            lastFrames=last_frames,
            lastCheckpoint=iso_utc(metrics.last_checkpoint_at),
            batches=metrics.batches,
            rawEvents=metrics.raw_events,
            repeatsDropped=metrics.repeats_dropped,
        )
