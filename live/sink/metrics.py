"""What the sink has done, per stream; the shape /metrics and the metrics file show."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class StreamMetrics:
    """What one stream's consumer has done; `as_dict` is what /metrics shows."""

    stream: str
    position: int = 0  # every message up to here is stored
    last_seq: int = 0  # the stream's last sequence when last looked at
    messages: int = 0
    rows: dict[str, int] = field(default_factory=dict)
    skipped_rows: int = 0  # rows already stored, dropped after a restart
    batches: int = 0
    last_batch_rows: int = 0
    max_batch_rows: int = 0
    inserts: int = 0
    insert_seconds_total: float = 0.0
    insert_seconds_last: float = 0.0
    insert_seconds_max: float = 0.0
    retries: int = 0
    quarantined: int = 0
    waiting_for_clickhouse: bool = False
    last_error: str = ""

    @property
    def lag(self) -> int:
        return max(0, self.last_seq - self.position)

    @property
    def rows_total(self) -> int:
        return sum(self.rows.values())

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "lag": self.lag, "rows_total": self.rows_total}


@dataclass
class SinkMetrics:
    """Metrics of every stream the sink consumes."""

    streams: dict[str, StreamMetrics] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {name: m.as_dict() for name, m in self.streams.items()}
