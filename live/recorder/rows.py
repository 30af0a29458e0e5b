"""The recorder's tables: one Arrow schema per record type, rows gathered per partition."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

import pyarrow as pa

_TS = pa.timestamp("ns", tz="UTC")
_LEVELS = pa.list_(pa.struct([("price", pa.int64()), ("size", pa.int64()),
                              ("orders", pa.int64())]))  # fmt: skip
_RAW = [("log_seq", pa.uint64()), ("log_index", pa.uint32()), ("ts_recv", _TS),
        ("ts_event", _TS), ("venue", pa.string()), ("symbol", pa.string())]  # fmt: skip

SCHEMAS: dict[str, pa.Schema] = {
    "trades": pa.schema(
        [
            *_RAW,
            ("price", pa.int64()),
            ("size", pa.int64()),
            ("aggressor", pa.string()),
            ("sequence", pa.uint64()),
            ("payload", pa.binary()),
        ]
    ),  # fmt: skip
    "quotes": pa.schema(
        [
            *_RAW,
            ("bid_px", pa.int64()),
            ("ask_px", pa.int64()),
            ("bid_sz", pa.int64()),
            ("ask_sz", pa.int64()),
            ("payload", pa.binary()),
        ]
    ),  # fmt: skip
    "depth": pa.schema([*_RAW, ("kind", pa.string()), ("payload", pa.binary())]),
    "book_snapshots": pa.schema(
        [
            ("log_seq", pa.uint64()),
            ("ts_recv", _TS),
            ("venue", pa.string()),
            ("symbol", pa.string()),
            ("bids", _LEVELS),
            ("asks", _LEVELS),
            ("crossed", pa.bool_()),
        ]
    ),  # fmt: skip
    "candles": pa.schema(
        [
            ("log_seq", pa.uint64()),
            ("venue", pa.string()),
            ("symbol", pa.string()),
            ("interval", pa.string()),
            ("start", _TS),
            ("open", pa.int64()),
            ("high", pa.int64()),
            ("low", pa.int64()),
            ("close", pa.int64()),
            ("volume", pa.int64()),
            ("trades", pa.int64()),
        ]
    ),  # fmt: skip
}

Partition = tuple[str, str, str]  # (date, venue, type)


def utc_date(ts_ns: int) -> str:
    return dt.datetime.fromtimestamp(ts_ns // 1_000_000_000, dt.UTC).date().isoformat()


class PendingRows:
    """Rows waiting for the next rotation, by partition."""

    def __init__(self) -> None:
        self._rows: dict[Partition, list[dict[str, Any]]] = defaultdict(list)
        self.count = 0

    def add(self, kind: str, ts_ns: int, venue: str, row: dict[str, Any]) -> None:
        self._rows[(utc_date(ts_ns), venue, kind)].append(row)
        self.count += 1

    def take(self) -> dict[Partition, pa.Table]:
        """The pending rows as one table per partition; nothing stays pending."""
        tables = {
            key: pa.Table.from_pylist(rows, schema=SCHEMAS[key[2]])
            for key, rows in sorted(self._rows.items())
        }
        self._rows.clear()
        self.count = 0
        return tables
