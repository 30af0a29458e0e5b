"""The `alert_dead_letters` table: alerts a subscriber's webhook never accepted."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import msgspec

from infra.warehouse import Warehouse

TABLE = "alert_dead_letters"
COLUMNS = (
    "run_id", "log_seq", "alert_id", "subscriber", "url", "attempts", "last_error", "body",
    "failed_at",
)  # fmt: skip


class DeadLetter(msgspec.Struct, frozen=True):
    run_id: str
    log_seq: int
    alert_id: str
    subscriber: str
    url: str
    attempts: int
    last_error: str
    body: bytes


class DeadLetterTable:
    """Writes dead letters to ClickHouse (one insert per call)."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse

    def add(self, letters: list[DeadLetter]) -> None:
        failed_at = datetime.fromtimestamp(time.time(), UTC)
        rows = [
            [d.run_id, d.log_seq, d.alert_id, d.subscriber, d.url, d.attempts,
             d.last_error[:2000], d.body.decode(), failed_at]
            for d in letters
        ]  # fmt: skip
        self.warehouse.client.insert(
            TABLE, rows, column_names=list(COLUMNS), database=self.warehouse.database
        )
