"""The `/health` of a compute worker that runs several partitions (live.partitions).

Each partition is judged as one compute service is (live.compute_health); the worker reports
its worst partition (`down` before `degraded` before `ok`) with that partition's fields, and
every partition's own report under `partitions`, by partition number.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from live.compute_health import DEFAULT_MAX_LAG_MESSAGES, ComputeHealth

if TYPE_CHECKING:
    from live.compute_service import ComputeService

_SEVERITY = {"ok": 0, "degraded": 1, "down": 2}


class WorkerHealth:
    """Watches the services of one worker, one per partition."""

    def __init__(
        self,
        services: Sequence[ComputeService],
        *,
        max_lag_messages: int = DEFAULT_MAX_LAG_MESSAGES,
    ) -> None:
        self.partitions = {
            str(service.partition.index if service.partition else 0): ComputeHealth(
                service, max_lag_messages=max_lag_messages
            )
            for service in services
        }

    def observe(self) -> None:
        for health in self.partitions.values():
            health.observe()

    def report(self) -> dict[str, Any]:
        reports = {name: health.report() for name, health in self.partitions.items()}
        worst = max(reports.values(), key=lambda report: _SEVERITY[report["status"]])
        return {**worst, "partitions": reports}
