"""The exactly-once position rule: which rows of a message the tables already hold.

- Every insert goes to one partition of one table (the tables are partitioned by
  (run_id, day)), stays well under `max_insert_block_size` and is one Arrow record batch,
  so ClickHouse commits it as one part or not at all (`split_partitions`, `cut_at_messages`).
- Inserts into one (table, partition) follow the stream order, so the largest `log_seq`
  stored in a partition says exactly which of its rows are in: a row of message `s` for
  partition `p` of table `T` is already stored iff `s <= max(log_seq of T in p)`. A message
  spanning several tables (FlowPacket -> flow_packets + packet_prints) or several partitions
  is thus stored once per table even if the sink dies between two inserts.
- After every flush the sink records the stream position it fully stored in
  `sink_positions`; that only bounds how far back a restart re-reads: it resumes from there
  and drops, per partition, the rows the tables already hold (`StoredRows`).
- On a sharded ClickHouse all of this holds per shard: each shard's `_local` tables get
  their rows in stream order, each shard's `sink_positions` its own position, and a restart
  resumes after the smallest of them, dropping per shard what that shard holds.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from infra.bus import Bus
from infra.sharding import key_of_sharding
from infra.warehouse import PACKET_PRINTS, TABLES, Warehouse
from live.sink.errors import SinkError
from schemas.book import BOOK_RAW_EVENTS
from schemas.cme import CME_DERIVED_EVENTS, CME_RAW_EVENTS
from schemas.crypto import CRYPTO_DERIVED_EVENTS, CRYPTO_RAW_EVENTS
from schemas.events import DERIVED_EVENTS, RAW_EVENTS, FlowPacket, Quarantined
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

QUARANTINE = TABLES[Quarantined]
POSITIONS_TABLE = "sink_positions"
DAY_NS = 86_400 * 10**9
STREAM_EVENTS: dict[str, frozenset[type]] = {
    RAW_STREAM: frozenset(RAW_EVENTS + CRYPTO_RAW_EVENTS + BOOK_RAW_EVENTS + CME_RAW_EVENTS),
    DERIVED_STREAM: frozenset(DERIVED_EVENTS + CRYPTO_DERIVED_EVENTS + CME_DERIVED_EVENTS),
}

PartitionKey = tuple[str, int]


def stream_tables(stream: str) -> tuple[str, ...]:
    """The tables a stream's messages are stored in (quarantine included)."""
    tables = {TABLES[t] for t in STREAM_EVENTS[stream] if t in TABLES}
    if FlowPacket in STREAM_EVENTS[stream]:
        tables.add(PACKET_PRINTS)
    tables.add(QUARANTINE)
    return tuple(sorted(tables))


def quarantine_source(stream: str) -> str:
    """`source` of the quarantine rows the sink itself writes for a stream's messages."""
    return f"sink:{stream}"


def _scope(stream: str, table: str) -> str:
    """SQL condition selecting the rows of `table` whose log_seq counts in `stream`.

    Quarantine is the one table both streams write: the DERIVED stream's rows there are the
    sink's own, recognised by their source; everything else in it came from RAW.
    """
    if table != QUARANTINE:
        return "1"
    op = "=" if stream == DERIVED_STREAM else "!="
    return f"source {op} '{quarantine_source(DERIVED_STREAM)}'"


# ------------------------------------------------------------------ partitions


@dataclass(frozen=True, slots=True)
class Layout:
    """How a table is partitioned: by run_id and/or by the UTC day of one time column."""

    table: str
    by_run: bool
    day_column: str | None

    def select_key(self) -> str:
        run = "run_id" if self.by_run else "''"
        day = f"toInt64(toDate({self.day_column}))" if self.day_column else "toInt64(0)"
        return f"{run}, {day}"

    def keys(self, data: pa.Table) -> list[PartitionKey]:
        """The partition key of each row, as the positions query reports it."""
        n = data.num_rows
        runs = data.column("run_id").to_pylist() if self.by_run else [""] * n
        if self.day_column is None:
            return [(r, 0) for r in runs]
        days = _days(data.column(self.day_column))
        return list(zip(runs, days.tolist(), strict=True))


def _days(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    nanos = pc.cast(column, pa.int64()).to_numpy(zero_copy_only=False)
    return np.floor_divide(nanos, DAY_NS)


_TO_DATE = re.compile(r"^toDate\((\w+)\)$")


def parse_partition_key(table: str, key: str) -> Layout:
    """A Layout from system.tables.partition_key, e.g. `(run_id, toDate(ts_recv))`."""
    text = key.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    by_run, day_column = False, None
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if part == "run_id":
            by_run = True
        elif match := _TO_DATE.match(part):
            day_column = match[1]
        elif part != "tuple()":
            raise SinkError(
                f"expected {table} partitioned by run_id and/or toDate(column), got {key!r}"
            )
    return Layout(table, by_run, day_column)


def table_layouts(
    warehouse: Warehouse, tables: Iterable[str], suffix: str = ""
) -> dict[str, Layout]:
    """Each table's partitioning, read from `<table><suffix>` (a shard's `_local` table)."""
    wanted = list(tables)
    rows = warehouse.rows(
        "SELECT name, partition_key FROM system.tables "
        "WHERE database = currentDatabase() AND name IN {names:Array(String)}",
        {"names": [f"{table}{suffix}" for table in wanted]},
    )
    found = {name.removesuffix(suffix): parse_partition_key(name, key) for name, key in rows}
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise SinkError(
            f"expected tables {missing} in {warehouse.database}; run `flowtape migrate`"
        )
    return found


def split_partitions(data: pa.Table, layout: Layout) -> list[pa.Table]:
    """Rows grouped by partition, each group keeping the rows' order."""
    if data.num_rows == 0:
        return []
    run_col = data.column("run_id") if layout.by_run else None
    days = _days(data.column(layout.day_column)) if layout.day_column else None
    single_run = run_col is None or len(pc.unique(run_col)) == 1
    single_day = days is None or int(days.min()) == int(days.max())
    if single_run and single_day:
        return [data]
    keys = layout.keys(data)
    groups: dict[PartitionKey, list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return [data.take(pa.array(indices, pa.int64())) for indices in groups.values()]


def message_starts(data: pa.Table) -> list[int]:
    """Row offsets where each message's rows begin, and the row count at the end."""
    seqs = data.column("log_seq").to_numpy()
    return [0, *(np.flatnonzero(np.diff(seqs) != 0) + 1).tolist(), data.num_rows]


def cut_at_messages(data: pa.Table, max_rows: int) -> list[pa.Table]:
    """Slices of at most `max_rows` rows (a bigger message stays whole), never splitting the
    rows of one message: the positions rule needs a message's rows in one partition to land
    in one insert."""
    if data.num_rows <= max_rows:
        return [data]
    starts = message_starts(data)
    slices: list[pa.Table] = []
    begin = 0
    for previous, boundary in zip(starts, starts[1:], strict=False):
        if boundary - begin > max_rows and previous > begin:
            slices.append(data.slice(begin, previous - begin))
            begin = previous
    slices.append(data.slice(begin))
    return slices


# ------------------------------------------------------------------ positions


def stored_checkpoint(warehouse: Warehouse, stream: str) -> int:
    """The last position a flush of `stream` recorded (0 before the first)."""
    return int(
        warehouse.scalar(
            f"SELECT max(position) FROM {POSITIONS_TABLE} WHERE stream = {{s:String}}",  # noqa: S608  (constant table name)
            {"s": stream},
        )
        or 0
    )


def record_checkpoint(warehouse: Warehouse, stream: str, position: int) -> None:
    """Record that every message of `stream` up to `position` is stored."""
    warehouse.command(
        f"INSERT INTO {POSITIONS_TABLE} (stream, position) "  # noqa: S608  (constant)
        "VALUES ({s:String}, {p:UInt64})",
        {"s": stream, "p": position},
    )


def stored_positions(
    warehouse: Warehouse,
    stream: str,
    layouts: Mapping[str, Layout],
    after: int,
    suffix: str = "",
) -> dict[str, dict[PartitionKey, int]]:
    """Per table and partition, the largest log_seq above `after` that `stream` stored."""
    positions: dict[str, dict[PartitionKey, int]] = {}
    for table, layout in layouts.items():
        rows = warehouse.rows(
            f"SELECT {layout.select_key()}, max(log_seq) FROM `{table}{suffix}` "  # noqa: S608  (names from system.tables)
            f"WHERE log_seq > {{after:UInt64}} AND {_scope(stream, table)} GROUP BY 1, 2",
            {"after": after},
        )
        if rows:
            positions[table] = {(str(r), int(d)): int(s) for r, d, s in rows}
    return positions


async def stored_lag(bus: Bus, warehouse: Warehouse) -> dict[str, dict[str, int]]:
    """Per stream: the stored position, the stream's last sequence and the lag between them,
    from the servers alone (for an API in another process than the sink)."""
    lag: dict[str, dict[str, int]] = {}
    for stream in STREAM_EVENTS:
        position = await asyncio.to_thread(stored_checkpoint, warehouse, stream)
        last = await bus.last_sequence(stream)
        lag[stream] = {"position": position, "last_seq": last, "lag": max(0, last - position)}
    return lag


@dataclass
class StoredRows:
    """Where a stream's tables stand: the checkpoint a restart resumes after, and per table
    and partition the largest log_seq stored beyond it (by a flush a crash cut short)."""

    layouts: dict[str, Layout] = field(default_factory=dict)
    checkpoint: int = 0
    ahead: dict[str, dict[PartitionKey, int]] = field(default_factory=dict)
    ahead_max: dict[str, int] = field(init=False)

    def __post_init__(self) -> None:
        self.ahead_max = {t: max(p.values()) for t, p in self.ahead.items()}

    @classmethod
    def load(
        cls, warehouse: Warehouse, stream: str, tables: Iterable[str], suffix: str = ""
    ) -> StoredRows:
        """Where `warehouse`'s tables stand (a shard's: `<table><suffix>`)."""
        layouts = table_layouts(warehouse, tables, suffix)
        checkpoint = stored_checkpoint(warehouse, stream)
        ahead = stored_positions(warehouse, stream, layouts, checkpoint, suffix)
        return cls(layouts, checkpoint, ahead)

    def unstored(self, table: str, data: pa.Table, seq: int) -> pa.Table:
        """The rows of message `seq` for `table` that the table does not hold yet."""
        if seq <= self.checkpoint:  # a shard ahead of the others holds all of it
            return data.slice(0, 0)
        if seq > self.ahead_max.get(table, 0):
            return data
        positions = self.ahead.get(table, {})
        keep = [seq > positions.get(key, 0) for key in self.layouts[table].keys(data)]
        return data.filter(pa.array(keep, pa.bool_()))


def shard_keys(warehouse: Warehouse, tables: Iterable[str]) -> dict[str, str]:
    """The key column of each table's Distributed table (whose value picks a row's shard)."""
    wanted = list(tables)
    rows = warehouse.rows(
        "SELECT name, engine_full FROM system.tables WHERE database = currentDatabase() "
        "AND engine = 'Distributed' AND name IN {names:Array(String)}",
        {"names": wanted},
    )
    found = {str(name): key_of_sharding(str(name), str(key)) for name, key in rows}
    missing = sorted(set(wanted) - set(found))
    if missing:
        raise SinkError(
            f"expected Distributed tables {missing} in {warehouse.database} on a sharded "
            "ClickHouse; run `flowtape migrate`"
        )
    return found
