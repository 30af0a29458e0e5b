"""The recorder's `/health`: degraded while NATS is away; a rotation (files written) is its
unit of work; its position, files and the rows waiting for the next rotation."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.health import HealthStatus, HealthTracker

if TYPE_CHECKING:
    from live.recorder.service import Recorder


class RecorderHealth:
    """Watches a `Recorder`: a rotation is a cycle, a poison message an error."""

    def __init__(self, recorder: Recorder, tracker: HealthTracker | None = None) -> None:
        self.recorder = recorder
        self.tracker = tracker or HealthTracker()

    def observe(self) -> None:
        metrics = self.recorder.metrics
        self.tracker.follow(metrics.rotations, metrics.poison_messages, "poison RAW message")

    def status(self) -> HealthStatus:
        return "ok" if self.recorder.bus.nc.is_connected else "degraded"

    def report(self) -> dict[str, Any]:
        self.observe()
        metrics = self.recorder.metrics
        return self.tracker.report(
            self.status(),
            position=metrics.position,
            events=metrics.events,
            files=metrics.files,
            pendingRows=self.recorder.recording.pending.count,
            poisonMessages=metrics.poison_messages,
        )
