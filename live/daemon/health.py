"""The daemon's `/health`: down until it reads the log, degraded while NATS is away; its
position, what it holds back (late trades) and how its socket clients fare."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from infra.health import HealthStatus, HealthTracker

if TYPE_CHECKING:
    from live.daemon.service import Daemon


class DaemonHealth:
    """Watches a `Daemon`: a RAW message applied is a cycle, a poison message an error."""

    def __init__(self, daemon: Daemon, tracker: HealthTracker | None = None) -> None:
        self.daemon = daemon
        self.tracker = tracker or HealthTracker()

    def observe(self) -> None:
        metrics = self.daemon.metrics
        self.tracker.follow(metrics.messages, metrics.poison_messages, "poison RAW message")

    def status(self) -> HealthStatus:
        if not self.daemon.ready.is_set():
            return "down"
        return "ok" if self.daemon.bus.nc.is_connected else "degraded"

    def report(self) -> dict[str, Any]:
        self.observe()
        metrics, stats = self.daemon.metrics, self.daemon.server.stats
        return self.tracker.report(
            self.status(),
            position=metrics.position,
            events=metrics.events,
            poisonMessages=metrics.poison_messages,
            lateTrades=self.daemon.market.buffers.late_trades,
            connections=stats.connections,
            droppedSlow=stats.dropped_slow,
            clientErrors=stats.errors,
        )
