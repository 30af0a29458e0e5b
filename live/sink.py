"""The sink: JetStream RAW and DERIVED into ClickHouse, exactly once, in large Arrow batches.

Exactly-once without insert deduplication:

- Every insert goes to one partition of one table (the tables are partitioned by
  (run_id, day)), stays well under `max_insert_block_size` and is one Arrow record batch,
  so ClickHouse commits it as one part or not at all.
- Inserts into one (table, partition) follow the stream order, so the largest `log_seq`
  stored in a partition says exactly which of its rows are in: a row of message `s` for
  partition `p` of table `T` is already stored iff `s <= max(log_seq of T in p)`. A message
  spanning several tables (FlowPacket -> flow_packets + packet_prints) or several partitions
  is thus stored once per table even if the sink dies between two inserts.
- After every flush the sink records the stream position it fully stored in
  `sink_positions`; that only bounds how far back a restart re-reads: it resumes from there
  and drops, per partition, the rows the tables already hold.

Flow control: the sink stops pulling while an insert fails (JetStream keeps the backlog),
retries with exponential backoff, then catches up. A message that cannot be decoded or
converted, or that a reachable ClickHouse keeps refusing, goes to `quarantine` with its
reason instead of blocking the stream.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from clickhouse_connect.driver.exceptions import OperationalError

from infra.bus import Bus, LogMessage, StreamReader
from infra.warehouse import (
    PACKET_PRINTS,
    TABLES,
    Warehouse,
    events_to_arrow,
    tables_for,
)
from schemas.errors import FlowtapeError
from schemas.events import DERIVED_EVENTS, RAW_EVENTS, FlowPacket, Quarantined
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

log = logging.getLogger("flowtape.sink")

QUARANTINE = TABLES[Quarantined]
POSITIONS_TABLE = "sink_positions"
DAY_NS = 86_400 * 10**9
STREAM_EVENTS: dict[str, frozenset[type]] = {
    RAW_STREAM: frozenset(RAW_EVENTS),
    DERIVED_STREAM: frozenset(DERIVED_EVENTS),
}


class SinkError(FlowtapeError):
    code = "sink"


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

    def keys(self, data: pa.Table) -> list[tuple[str, int]]:
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


def table_layouts(warehouse: Warehouse, tables: Iterable[str]) -> dict[str, Layout]:
    wanted = list(tables)
    rows = warehouse.rows(
        "SELECT name, partition_key FROM system.tables "
        "WHERE database = currentDatabase() AND name IN {names:Array(String)}",
        {"names": wanted},
    )
    found = {name: parse_partition_key(name, key) for name, key in rows}
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
    groups: dict[tuple[str, int], list[int]] = {}
    for index, key in enumerate(keys):
        groups.setdefault(key, []).append(index)
    return [data.take(pa.array(indices, pa.int64())) for indices in groups.values()]


def cut_at_messages(data: pa.Table, max_rows: int) -> list[pa.Table]:
    """Slices of at most `max_rows` rows (a bigger message stays whole), never splitting the
    rows of one message: the positions rule needs a message's rows in one partition to land
    in one insert."""
    if data.num_rows <= max_rows:
        return [data]
    seqs = data.column("log_seq").to_numpy()
    starts = [0, *(np.flatnonzero(np.diff(seqs) != 0) + 1).tolist(), data.num_rows]
    slices: list[pa.Table] = []
    begin = 0
    for previous, boundary in zip(starts, starts[1:], strict=False):
        if boundary - begin > max_rows and previous > begin:
            slices.append(data.slice(begin, previous - begin))
            begin = previous
    slices.append(data.slice(begin))
    return slices


# ------------------------------------------------------------------ settings and metrics


@dataclass(frozen=True, slots=True)
class SinkConfig:
    """Batching, retry and fetch knobs of the sink."""

    batch_rows: int = 200_000  # flush when this many rows are pending ...
    batch_wait_s: float = 1.0  # ... or the oldest pending message waited this long
    fetch_messages: int = 512  # at most this many messages per pull ...
    fetch_bytes: int = 8_000_000  # ... and about this many bytes (a server-side slow
    # consumer gets disconnected: nats-server drops a client with ~64 MB pending)
    fetch_timeout_s: float = 0.25
    max_insert_rows: int = 500_000  # one insert = one part: stay under max_insert_block_size
    backoff_initial_s: float = 0.2
    backoff_max_s: float = 5.0
    rejected_attempts: int = 3  # a reachable server refusing an insert this often: quarantine
    log_every_s: float = 10.0
    metrics_every_s: float = 2.0  # how often `Sink(metrics_path=...)` rewrites its file


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


# ------------------------------------------------------------------ positions


def stored_checkpoint(warehouse: Warehouse, stream: str) -> int:
    return int(
        warehouse.scalar(
            f"SELECT max(position) FROM {POSITIONS_TABLE} WHERE stream = {{s:String}}",  # noqa: S608  (constant table name)
            {"s": stream},
        )
        or 0
    )


def stored_positions(
    warehouse: Warehouse, stream: str, layouts: Mapping[str, Layout], after: int
) -> dict[str, dict[tuple[str, int], int]]:
    """Per table and partition, the largest log_seq above `after` that `stream` stored."""
    positions: dict[str, dict[tuple[str, int], int]] = {}
    for table, layout in layouts.items():
        rows = warehouse.rows(
            f"SELECT {layout.select_key()}, max(log_seq) FROM `{table}` "  # noqa: S608  (names from system.tables)
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


# ------------------------------------------------------------------ the consumer


class _Stopped(FlowtapeError):
    """The sink was asked to stop while waiting for ClickHouse."""


def _message_time_ns(message: LogMessage) -> int:
    try:
        stamp = message.raw.metadata.timestamp
        return int(stamp.timestamp()) * 10**9 + stamp.microsecond * 1000
    except Exception:  # a message without JetStream metadata (not expected from a reader)
        return time.time_ns()


def _short(exc: BaseException) -> str:
    """An error without the request URL clickhouse-connect puts in it (the whole query)."""
    return re.sub(r"url: \S+", "url: ...", str(exc))[:500]


def _unreachable(exc: BaseException) -> bool:
    """True when the error says ClickHouse could not be reached (as opposed to refusing)."""
    return isinstance(exc, OperationalError | OSError)


class StreamSink:
    """Consumes one stream into ClickHouse; `Sink` runs one per stream."""

    def __init__(
        self,
        bus: Bus,
        warehouse: Warehouse,
        stream: str,
        config: SinkConfig,
        metrics: StreamMetrics,
    ) -> None:
        self.bus = bus
        self.warehouse = warehouse
        self.stream = stream
        self.config = config
        self.metrics = metrics
        self.tables = stream_tables(stream)
        self.allowed = STREAM_EVENTS[stream]
        self.layouts: dict[str, Layout] = {}
        self.resume: dict[str, dict[tuple[str, int], int]] = {}
        self.resume_max: dict[str, int] = {}
        self.next_seq = 1
        self.reader: StreamReader | None = None
        self.pending: dict[str, list[pa.Table]] = {}
        self.pending_rows = 0
        self.pending_since = 0.0
        self.pending_last_seq = 0
        self.writing: asyncio.Task[None] | None = None
        self.stop = asyncio.Event()
        self._last_log = time.monotonic()
        self._last_seq_checked = 0.0

    # -- lifecycle

    async def start(self) -> None:
        """Read where the tables stand and open a reader right after the stored position."""
        await self._retrying(self._load_positions, "reading stored positions")
        await self._refresh_last_seq(force=True)
        if self.metrics.last_seq < self.metrics.position:
            log.error(
                "%s: ClickHouse holds position %d but the stream ends at %d: was the stream "
                "recreated? New messages below %d are not stored",
                self.stream,
                self.metrics.position,
                self.metrics.last_seq,
                self.metrics.position,
            )
        await self._open_reader()

    def _load_positions(self) -> None:
        self.layouts = table_layouts(self.warehouse, self.tables)
        checkpoint = stored_checkpoint(self.warehouse, self.stream)
        self.resume = stored_positions(self.warehouse, self.stream, self.layouts, checkpoint)
        self.resume_max = {t: max(p.values()) for t, p in self.resume.items()}
        self.next_seq = checkpoint + 1
        self.metrics.position = checkpoint
        if self.resume:
            log.info(
                "%s: resuming after %d; tables ahead of it: %s",
                self.stream,
                checkpoint,
                self.resume_max,
            )

    async def _open_reader(self) -> None:
        if self.reader is not None:
            try:
                await self.reader.close()
            except Exception as exc:  # the old consumer may already be gone
                log.debug("%s: closing reader: %s", self.stream, exc)
        delay = self.config.backoff_initial_s
        while True:
            try:
                self.reader = await self.bus.reader(
                    self.stream, start_seq=self.next_seq, max_bytes=self.config.fetch_bytes
                )
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS away: its client reconnects by itself meanwhile
                self.metrics.last_error = f"opening a reader: {_short(exc)}"
                delay = await self._backoff(delay, "opening a reader", exc)

    async def close(self) -> None:
        if self.reader is not None:
            try:
                await self.reader.close()
            except Exception as exc:
                log.debug("%s: closing reader: %s", self.stream, exc)
            self.reader = None

    async def run(self, *, until_idle: bool) -> None:
        """Consume until `stop` is set, or (with `until_idle`) until caught up and flushed."""
        try:
            await self.start()
            while not self.stop.is_set():
                messages = await self._fetch()
                for message in messages:
                    self._accept(message)
                if self._flush_due(idle=not messages):
                    await self.flush()
                if not messages:
                    await self._refresh_last_seq(force=True)
                    if self.next_seq <= self.metrics.last_seq:
                        # Nothing came although the stream is ahead: the consumer may have
                        # been dropped (inactive while ClickHouse was down); start a new one.
                        await self._open_reader()
                    elif until_idle:
                        await self.written()
                        return
                self._maybe_log()
            await self.flush()
            await self.written()
        except _Stopped:
            log.warning("%s: stopped before storing everything it read", self.stream)
        finally:
            if self.writing is not None:
                self.writing.cancel()
            await self.close()

    # -- reading

    async def _fetch(self) -> list[LogMessage]:
        assert self.reader is not None  # noqa: S101  (start() opened it)
        try:
            messages = await self.reader.fetch(
                self.config.fetch_messages, timeout_s=self.config.fetch_timeout_s
            )
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            self.metrics.last_error = f"fetch: {exc!r}"
            log.warning("%s: fetch failed (%r); reopening the reader", self.stream, exc)
            await asyncio.sleep(self.config.backoff_initial_s)
            await self._open_reader()
            return []
        return [message for message in messages if message.stream_seq >= self.next_seq]

    async def _refresh_last_seq(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_seq_checked < 0.5:
            return
        self._last_seq_checked = now
        try:
            self.metrics.last_seq = await self.bus.last_sequence(self.stream)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.debug("%s: stream info failed: %r", self.stream, exc)

    # -- converting

    def _accept(self, message: LogMessage) -> None:
        seq = message.stream_seq
        self.next_seq = seq + 1
        self.metrics.messages += 1
        tables = self._convert(message)
        for table, data in tables.items():
            if seq <= self.resume_max.get(table, 0):
                data = self._drop_stored(table, data, seq)
            if data.num_rows:
                self.pending.setdefault(table, []).append(data)
                self.pending_rows += data.num_rows
        if not self.pending_since:
            self.pending_since = time.monotonic()
        self.pending_last_seq = seq

    def _convert(self, message: LogMessage) -> dict[str, pa.Table]:
        if message.error is not None:
            return self._quarantine(message, "undecodable_message", message.error)
        if self.stream == RAW_STREAM and not message.run_id:
            return self._quarantine(message, "missing_run_id", "RAW message without run id header")
        strays = sorted({type(e).__name__ for e in message.events if type(e) not in self.allowed})
        if strays:
            return self._quarantine(message, "wrong_stream", f"{strays} on {self.stream}")
        if not message.events:
            return {}
        try:
            return tables_for(
                message.events,
                run_id=message.run_id,
                log_seqs=[message.stream_seq] * len(message.events),
            )
        except Exception as exc:
            return self._quarantine(message, "conversion_failed", repr(exc))

    def _quarantine(self, message: LogMessage, reason: str, detail: str) -> dict[str, pa.Table]:
        """The quarantine row standing for a whole message (its body kept as the payload)."""
        self.metrics.quarantined += 1
        seq = message.stream_seq
        log.warning("%s: quarantining message %d (%s): %s", self.stream, seq, reason, detail[:300])
        event = Quarantined(
            ts_recv=_message_time_ns(message),  # the stored message's time: same on a re-read
            source=quarantine_source(self.stream),
            reason=reason,
            detail=f"{self.stream} seq {seq} {message.subject}: {detail}",
            payload=bytes(message.raw.data),
        )
        rows = events_to_arrow([event], run_id=message.run_id or "unknown", log_seqs=[seq])
        return {QUARANTINE: rows}

    def _drop_stored(self, table: str, data: pa.Table, seq: int) -> pa.Table:
        positions = self.resume.get(table, {})
        keys = self.layouts[table].keys(data)
        keep = [seq > positions.get(key, 0) for key in keys]
        kept = data.filter(pa.array(keep, pa.bool_()))
        self.metrics.skipped_rows += data.num_rows - kept.num_rows
        return kept

    # -- writing

    def _flush_due(self, *, idle: bool) -> bool:
        if self.pending_last_seq == 0:
            return False
        if idle or self.pending_rows >= self.config.batch_rows:
            return True
        return time.monotonic() - self.pending_since >= self.config.batch_wait_s

    async def flush(self) -> None:
        """Start writing everything pending, once the previous write is done; reading and
        converting the next batch overlaps with this one's inserts."""
        await self.written()
        if self.pending_last_seq == 0:
            return
        pending, rows, upto = self.pending, self.pending_rows, self.pending_last_seq
        self.pending, self.pending_rows, self.pending_since, self.pending_last_seq = {}, 0, 0.0, 0
        self.writing = asyncio.create_task(self._write(pending, rows, upto))

    async def written(self) -> None:
        """Wait for the write in flight, if any (its errors surface here)."""
        task, self.writing = self.writing, None
        if task is not None:
            await task

    async def _write(self, pending: dict[str, list[pa.Table]], rows: int, upto: int) -> None:
        """Insert a batch (per table and partition, quarantine last), then record its position."""
        ordered = sorted(pending, key=lambda t: (t == QUARANTINE, t))
        rejected: list[pa.Table] = []
        for table in ordered:
            data = pa.concat_tables(pending[table], promote_options="default")
            if table == QUARANTINE:
                if rejected:
                    data = pa.concat_tables([data, *rejected], promote_options="default")
                data = data.sort_by("log_seq")
            rejected.extend(await self._insert_table(table, data))
        if rejected and QUARANTINE not in pending:
            data = pa.concat_tables(rejected, promote_options="default").sort_by("log_seq")
            await self._insert_table(QUARANTINE, data)
        await self._retrying(lambda: self._checkpoint(upto), "recording the position")
        self.metrics.position = upto
        self.metrics.batches += 1
        self.metrics.last_batch_rows = rows
        self.metrics.max_batch_rows = max(self.metrics.max_batch_rows, rows)
        await self._refresh_last_seq()

    async def _insert_table(self, table: str, data: pa.Table) -> list[pa.Table]:
        """Insert one table's batch; returns quarantine rows for messages ClickHouse refused."""
        rejected: list[pa.Table] = []
        for part in split_partitions(data, self.layouts[table]):
            for chunk in cut_at_messages(part, self.config.max_insert_rows):
                if await self._insert(table, chunk):
                    self._count(table, chunk.num_rows)
                else:
                    rejected.extend(await self._insert_each_message(table, chunk))
        return rejected

    def _count(self, table: str, rows: int) -> None:
        self.metrics.rows[table] = self.metrics.rows.get(table, 0) + rows

    async def _insert_each_message(self, table: str, chunk: pa.Table) -> list[pa.Table]:
        """ClickHouse keeps refusing `chunk`: insert it message by message, quarantining the
        messages it refuses (in order, so the positions rule still holds)."""
        rejected: list[pa.Table] = []
        seqs = chunk.column("log_seq").to_numpy()
        starts = [0, *(np.flatnonzero(np.diff(seqs) != 0) + 1).tolist(), chunk.num_rows]
        for begin, end in zip(starts, starts[1:], strict=False):
            one = chunk.slice(begin, end - begin)
            if await self._insert(table, one, attempts=1):
                self._count(table, one.num_rows)
                continue
            seq = int(seqs[begin])
            if table == QUARANTINE:
                log.error(
                    "%s: ClickHouse refused quarantine rows of message %d; they are only in "
                    "the stream: %s",
                    self.stream,
                    seq,
                    self.metrics.last_error,
                )
                continue
            rejected.append(self._refused_rows(table, one, seq))
        return rejected

    def _refused_rows(self, table: str, rows: pa.Table, seq: int) -> pa.Table:
        self.metrics.quarantined += 1
        run_id = str(rows.column("run_id")[0].as_py())
        day_column = self.layouts[table].day_column
        ts = int(pc.cast(rows.column(day_column), pa.int64())[0].as_py()) if day_column else 0
        event = Quarantined(
            ts_recv=ts,
            source=quarantine_source(self.stream),
            reason="insert_refused",
            detail=f"{self.stream} seq {seq} into {table}: {self.metrics.last_error}"[:4000],
            payload=b"",
        )
        log.warning("%s: ClickHouse refused message %d for %s", self.stream, seq, table)
        rows = events_to_arrow([event], run_id=run_id, log_seqs=[seq])
        if seq <= self.resume_max.get(QUARANTINE, 0):
            rows = self._drop_stored(QUARANTINE, rows, seq)  # stored before a restart
        return rows

    async def _insert(self, table: str, data: pa.Table, *, attempts: int | None = None) -> bool:
        """Insert with retries; False when a reachable server refused it `attempts` times."""
        limit = attempts or self.config.rejected_attempts
        refused = 0
        delay = self.config.backoff_initial_s
        while True:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self._insert_now, table, data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.metrics.last_error = f"insert {table}: {_short(exc)}"
                if not _unreachable(exc) and await asyncio.to_thread(self._ping):
                    refused += 1
                    if refused >= limit:
                        return False
                else:
                    self.metrics.waiting_for_clickhouse = True
                delay = await self._backoff(delay, f"insert into {table}", exc)
                continue
            elapsed = time.perf_counter() - started
            self.metrics.waiting_for_clickhouse = False
            self.metrics.inserts += 1
            self.metrics.insert_seconds_last = elapsed
            self.metrics.insert_seconds_total += elapsed
            self.metrics.insert_seconds_max = max(self.metrics.insert_seconds_max, elapsed)
            return True

    def _insert_now(self, table: str, data: pa.Table) -> None:
        self.warehouse.insert_arrow(table, data.combine_chunks())  # one record batch: one block

    def _ping(self) -> bool:
        try:
            return bool(self.warehouse.client.ping())
        except Exception:
            return False

    def _checkpoint(self, position: int) -> None:
        self.warehouse.command(
            f"INSERT INTO {POSITIONS_TABLE} (stream, position) "  # noqa: S608  (constant)
            "VALUES ({s:String}, {p:UInt64})",
            {"s": self.stream, "p": position},
        )

    async def _retrying(self, action: Callable[[], Any], what: str) -> Any:
        delay = self.config.backoff_initial_s
        while True:
            try:
                result = await asyncio.to_thread(action)
            except asyncio.CancelledError:
                raise
            except SinkError:
                raise
            except Exception as exc:
                self.metrics.last_error = f"{what}: {_short(exc)}"
                self.metrics.waiting_for_clickhouse = True
                delay = await self._backoff(delay, what, exc)
                continue
            self.metrics.waiting_for_clickhouse = False
            return result

    async def _backoff(self, delay: float, what: str, exc: BaseException) -> float:
        self.metrics.retries += 1
        await self._refresh_last_seq()  # keep the lag figure live while the backlog grows
        log.warning("%s: %s failed, retrying in %.1fs: %s", self.stream, what, delay, _short(exc))
        try:
            await asyncio.wait_for(self.stop.wait(), timeout=delay)
        except TimeoutError:
            return min(delay * 2, self.config.backoff_max_s)
        raise _Stopped

    def _maybe_log(self) -> None:
        now = time.monotonic()
        if now - self._last_log < self.config.log_every_s:
            return
        self._last_log = now
        m = self.metrics
        log.info(
            "%s: position %d lag %d rows %d batches %d last batch %d insert %.3fs retries %d "
            "quarantined %d",
            self.stream,
            m.position,
            m.lag,
            m.rows_total,
            m.batches,
            m.last_batch_rows,
            m.insert_seconds_last,
            m.retries,
            m.quarantined,
        )


class Sink:
    """RAW and DERIVED into ClickHouse, one consumer per stream, exactly once.

    In-process use: `await Sink(bus, warehouse).run_until_idle()` stores everything the
    streams hold and returns; `await sink.run(stop_event)` runs until the event is set.
    """

    def __init__(
        self,
        bus: Bus,
        warehouse: Warehouse,
        *,
        config: SinkConfig | None = None,
        streams: Iterable[str] = (RAW_STREAM, DERIVED_STREAM),
        metrics_path: Path | None = None,
    ) -> None:
        self.bus = bus
        self.warehouse = warehouse
        self.config = config or SinkConfig()
        self.metrics_path = metrics_path
        self.metrics = SinkMetrics()
        self.consumers: list[StreamSink] = []
        for stream in streams:
            if stream not in STREAM_EVENTS:
                raise SinkError(f"expected a stream among {sorted(STREAM_EVENTS)}, got {stream!r}")
            self.metrics.streams[stream] = StreamMetrics(stream)
            self.consumers.append(
                StreamSink(bus, warehouse, stream, self.config, self.metrics.streams[stream])
            )

    async def run(self, stop: asyncio.Event) -> None:
        """Consume until `stop` is set; pending rows are flushed when ClickHouse allows."""

        async def relay() -> None:
            await stop.wait()
            for consumer in self.consumers:
                consumer.stop.set()

        relay_task = asyncio.create_task(relay())
        writer_task = asyncio.create_task(self._write_metrics_periodically())
        try:
            async with asyncio.TaskGroup() as group:
                for consumer in self.consumers:
                    group.create_task(consumer.run(until_idle=False))
        finally:
            relay_task.cancel()
            writer_task.cancel()
            self.write_metrics()

    def write_metrics(self) -> None:
        """Write the metrics as JSON to `metrics_path` (atomically), for other processes."""
        if self.metrics_path is None:
            return
        payload = {"updated_ns": time.time_ns(), "streams": self.metrics.as_dict()}
        temporary = self.metrics_path.with_suffix(".tmp")
        try:
            self.metrics_path.parent.mkdir(parents=True, exist_ok=True)
            temporary.write_text(json.dumps(payload, sort_keys=True))
            os.replace(temporary, self.metrics_path)
        except OSError as exc:
            log.warning("cannot write sink metrics to %s: %s", self.metrics_path, exc)

    async def _write_metrics_periodically(self) -> None:
        while self.metrics_path is not None:
            await asyncio.sleep(self.config.metrics_every_s)
            self.write_metrics()

    async def run_until_idle(self) -> SinkMetrics:
        """Store everything the streams hold now, then return the metrics."""
        async with asyncio.TaskGroup() as group:
            for consumer in self.consumers:
                group.create_task(consumer.run(until_idle=True))
        self.write_metrics()
        return self.metrics


# ------------------------------------------------------------------ retention

RETENTION_PREFIX = "RETENTION_DAYS_"


def retention_from_env(environ: Mapping[str, str] | None = None) -> dict[str, int]:
    """`RETENTION_DAYS_<TABLE>=N` (N days, 0 = keep forever) for each table named."""
    env = os.environ if environ is None else environ
    found: dict[str, int] = {}
    for name, value in env.items():
        if not name.upper().startswith(RETENTION_PREFIX):
            continue
        table = name[len(RETENTION_PREFIX) :].lower()
        try:
            days = int(value)
        except ValueError as exc:
            raise SinkError(f"{name} must be a whole number of days, got {value!r}") from exc
        if days < 0:
            raise SinkError(f"{name} must be >= 0 days, got {days}")
        found[table] = days
    return found


def _time_column(warehouse: Warehouse, table: str) -> str | None:
    rows = warehouse.rows(
        "SELECT partition_key, sorting_key FROM system.tables "
        "WHERE database = currentDatabase() AND name = {t:String}",
        {"t": table},
    )
    if not rows:
        raise SinkError(f"RETENTION_DAYS_{table.upper()} names no table in {warehouse.database}")
    for key in rows[0]:
        for part in re.findall(r"toDate\((\w+)\)|\b(ts_\w+|date|bucket|minute)\b", key):
            column = part[0] or part[1]
            if column:
                return column
    return None


def apply_retention(warehouse: Warehouse, days_by_table: Mapping[str, int]) -> dict[str, str]:
    """Set (days > 0) or remove (0) a TTL on each named table; returns what was done."""
    done: dict[str, str] = {}
    for table, days in sorted(days_by_table.items()):
        column = _time_column(warehouse, table)
        engine = str(
            warehouse.scalar(
                "SELECT engine_full FROM system.tables "
                "WHERE database = currentDatabase() AND name = {t:String}",
                {"t": table},
            )
        )
        has_ttl = " TTL " in f" {engine} "
        if days == 0:
            if has_ttl:
                warehouse.command(f"ALTER TABLE `{table}` REMOVE TTL")
            done[table] = "kept forever"
            continue
        if column is None:
            raise SinkError(f"expected a time column in the keys of {table} to expire rows by")
        warehouse.command(f"ALTER TABLE `{table}` MODIFY SETTING ttl_only_drop_parts = 1")
        warehouse.command(
            f"ALTER TABLE `{table}` MODIFY TTL toDateTime({column}) + INTERVAL {int(days)} DAY"
        )
        done[table] = f"rows older than {days} days by {column}"
    return done
