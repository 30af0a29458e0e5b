"""One stream into ClickHouse: read JetStream, convert to Arrow, batch, insert with retries.

The sink stops pulling while an insert fails (JetStream keeps the backlog), retries with
exponential backoff, then catches up. A message that cannot be decoded or converted, or that
a reachable ClickHouse keeps refusing, goes to `quarantine` with its reason instead of
blocking the stream.

On a sharded ClickHouse (`Warehouse.sharded`) the sink writes each shard's `_local` tables
itself rather than through the Distributed tables: a row goes to the shard its key picks
(infra/sharding.py, the Distributed tables' own rule), each insert stays one atomic insert
into one partition of one shard, and each shard records its own position
(live/sink/positions.py). Inserting through a Distributed table, even a synchronous one,
splits one insert into one per shard without saying which of them failed.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from clickhouse_connect.driver.exceptions import OperationalError

from infra.bus import Bus, LogMessage, StreamReader
from infra.sharding import LOCAL_SUFFIX, split_by_shard
from infra.warehouse import Warehouse, events_to_arrow, tables_for
from live.sink.config import SinkConfig
from live.sink.errors import SinkError
from live.sink.metrics import StreamMetrics
from live.sink.positions import (
    QUARANTINE,
    STREAM_EVENTS,
    StoredRows,
    cut_at_messages,
    message_starts,
    quarantine_source,
    record_checkpoint,
    shard_keys,
    split_partitions,
    stream_tables,
)
from live.sink.singles import HOLD_STREAM_MESSAGES, HeldSingles
from schemas.errors import FlowtapeError
from schemas.events import Event, FlowPacket, Quarantined
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

log = logging.getLogger("flowtape.sink")


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
        self.shards: list[Warehouse] = [warehouse]  # each shard's server, or the one server
        self.suffix = ""  # of the tables the sink writes: a shard's `_local` tables
        self.keys: dict[str, str] = {}  # per table, the column that picks a row's shard
        self.stored = [StoredRows()]  # per shard
        self.checkpoint = 0  # every shard holds every message up to here
        self._ahead_max = 0  # the furthest any table of any shard holds
        self.next_seq = 1
        self.held = HeldSingles()
        self.reader: StreamReader | None = None
        # Read, not yet converted: (message, held singles it claims), in stream order
        self.accepted: list[tuple[LogMessage, list[FlowPacket]]] = []
        self.accepted_events = 0
        self.pending: dict[tuple[int, str], list[pa.Table]] = {}  # by (shard, table)
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
        if self.warehouse.sharded and not self.suffix:
            self.shards = await self._retrying(self.warehouse.connect_shards, "connecting")
            self.suffix = LOCAL_SUFFIX
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
        self.stored = [
            StoredRows.load(shard, self.stream, self.tables, self.suffix) for shard in self.shards
        ]
        if self.suffix:
            self.keys = shard_keys(self.warehouse, self.tables)
        checkpoint = self.checkpoint = min(stored.checkpoint for stored in self.stored)
        self._ahead_max = max(max(s.ahead_max.values(), default=0) for s in self.stored)
        self.next_seq = checkpoint + 1
        if self.stream == DERIVED_STREAM:  # re-read what refills the held singles
            self.next_seq = max(1, checkpoint + 1 - HOLD_STREAM_MESSAGES)
        self.metrics.position = checkpoint
        for shard, stored in enumerate(self.stored):
            if stored.ahead or stored.checkpoint > checkpoint:
                log.info(
                    "%s: resuming after %d; shard %d stored up to %d, tables ahead of it: %s",
                    self.stream,
                    checkpoint,
                    shard,
                    stored.checkpoint,
                    stored.ahead_max,
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
        if self.suffix:
            for shard in self.shards:
                shard.close()
            self.shards, self.suffix = [self.warehouse], ""

    async def run(self, *, until_idle: bool) -> None:
        """Consume until `stop` is set, or (with `until_idle`) until caught up and flushed."""
        try:
            await self.start()
            while not self.stop.is_set():
                messages = await self._fetch()
                for message in messages:
                    self._accept(message)
                if self._flush_due(idle=until_idle and not messages):
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
        claimed = self._hold_singles(message) if self.stream == DERIVED_STREAM else []
        if seq <= self.checkpoint:  # stored: read again only to hold its singles
            return
        self.metrics.messages += 1
        self.accepted.append((message, claimed))
        self.accepted_events += len(message.events) + len(claimed)
        if self.accepted_events >= self.config.convert_events:
            self._convert_accepted()
        if not self.pending_since:
            self.pending_since = time.monotonic()
        self.pending_last_seq = seq

    def _convert_accepted(self) -> None:
        """The accepted messages as pending rows, in stream order. Converting costs about as
        much per call as per few hundred rows, and a live message holds a few dozen events:
        so consecutive plain messages of one run id are converted in one call (their rows as
        converting each alone gives), and the others each alone."""
        together: list[LogMessage] = []
        for message, claimed in self.accepted:
            if not claimed and self._plain(message):
                if together and together[-1].run_id != message.run_id:
                    self._convert_together(together)
                    together = []
                together.append(message)
                continue
            self._convert_together(together)
            together = []
            self._add(self._convert(message, claimed), message.stream_seq)
        self._convert_together(together)
        self.accepted, self.accepted_events = [], 0

    def _plain(self, message: LogMessage) -> bool:
        """A message whose rows do not depend on the messages converted with it: decoded,
        of this stream, without FlowPackets (a packet's row may hang on the hits given
        with it) and past every table's stored position."""
        if message.error is not None or not message.events or not message.run_id:
            return False
        types = {type(event) for event in message.events}
        return (
            types <= self.allowed
            and FlowPacket not in types
            and message.stream_seq > self._ahead_max
        )

    def _convert_together(self, messages: list[LogMessage]) -> None:
        if len(messages) < 2:
            for message in messages:
                self._add(self._convert(message, []), message.stream_seq)
            return
        events = [event for message in messages for event in message.events]
        seqs = [message.stream_seq for message in messages for _ in message.events]
        try:
            tables = tables_for(events, run_id=messages[0].run_id, log_seqs=seqs)
        except Exception:  # find the message at fault: converted alone, it is quarantined
            for message in messages:
                self._add(self._convert(message, []), message.stream_seq)
            return
        self._add(tables, messages[0].stream_seq)  # all past every stored position (_plain)

    def _add(self, tables: dict[str, pa.Table], seq: int) -> None:
        """One message's tables (or plain messages' from `seq` on), less what a table holds
        already, as pending rows."""
        for table, data in tables.items():
            for shard, rows in self._route(table, data).items():
                kept = self._drop_stored(shard, table, rows, seq)
                if kept.num_rows:
                    self.pending.setdefault((shard, table), []).append(kept)
                    self.pending_rows += kept.num_rows

    def _hold_singles(self, message: LogMessage) -> list[FlowPacket]:
        """Count every DERIVED message in its producer's window, the same on a first read
        and on a re-read: hold its singles, and return those its hits and alerts claim
        (none from a message that goes to quarantine)."""
        seq, producer = message.stream_seq, (message.run_id, message.producer)
        events = [] if message.error is not None or self._strays(message) else message.events
        self.held.hold(seq, events, producer)
        return self.held.claim(seq, events)

    def _strays(self, message: LogMessage) -> list[str]:
        """The event types of `message` that do not belong on this stream."""
        return sorted({type(e).__name__ for e in message.events if type(e) not in self.allowed})

    def _convert(self, message: LogMessage, claimed: list[FlowPacket]) -> dict[str, pa.Table]:
        if message.error is not None:
            return self._quarantine(message, "undecodable_message", message.error)
        if self.stream == RAW_STREAM and not message.run_id:
            return self._quarantine(message, "missing_run_id", "RAW message without run id header")
        strays = self._strays(message)
        if strays:
            return self._quarantine(message, "wrong_stream", f"{strays} on {self.stream}")
        if not message.events:
            return {}
        try:
            events: list[Event] = [*claimed, *message.events]
            return tables_for(
                events, run_id=message.run_id, log_seqs=[message.stream_seq] * len(events)
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

    def _route(self, table: str, data: pa.Table) -> dict[int, pa.Table]:
        """`data`'s rows by the shard they belong on (all on shard 0 of one server)."""
        if not self.suffix:
            return {0: data}
        return split_by_shard(data, self.keys[table], len(self.shards))

    def _drop_stored(self, shard: int, table: str, data: pa.Table, seq: int) -> pa.Table:
        kept = self.stored[shard].unstored(table, data, seq)
        self.metrics.skipped_rows += data.num_rows - kept.num_rows
        return kept

    # -- writing

    def _flush_due(self, *, idle: bool) -> bool:
        """True at the latency bound or the memory cap, or when `idle` (a run until idle
        has read everything)."""
        if self.pending_last_seq == 0:
            return False
        if idle or self.pending_rows + self.accepted_events >= self.config.batch_rows:
            return True
        return time.monotonic() - self.pending_since >= self.config.batch_wait_s

    async def flush(self) -> None:
        """Start writing everything pending, once the previous write is done; reading and
        converting the next batch overlaps with this one's inserts."""
        self._convert_accepted()  # while the previous batch's inserts run
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

    async def _write(
        self, pending: dict[tuple[int, str], list[pa.Table]], rows: int, upto: int
    ) -> None:
        """Insert a batch shard by shard (per table and partition, quarantine last), recording
        each shard's position once it holds its part."""
        for shard, target in enumerate(self.shards):
            await self._write_shard(shard, {t: d for (s, t), d in pending.items() if s == shard})
            await self._retrying(
                partial(record_checkpoint, target, self.stream, upto), "recording the position"
            )
        self.checkpoint = upto
        self.metrics.position = upto
        self.metrics.batches += 1
        self.metrics.last_batch_rows = rows
        self.metrics.max_batch_rows = max(self.metrics.max_batch_rows, rows)
        await self._refresh_last_seq()

    async def _write_shard(self, shard: int, pending: dict[str, list[pa.Table]]) -> None:
        ordered = sorted(pending, key=lambda t: (t == QUARANTINE, t))
        rejected: list[pa.Table] = []
        for table in ordered:
            data = pa.concat_tables(pending[table], promote_options="default")
            if table == QUARANTINE:
                if rejected:
                    data = pa.concat_tables([data, *rejected], promote_options="default")
                data = data.sort_by("log_seq")
            rejected.extend(await self._insert_table(shard, table, data))
        if rejected and QUARANTINE not in pending:
            data = pa.concat_tables(rejected, promote_options="default").sort_by("log_seq")
            await self._insert_table(shard, QUARANTINE, data)

    async def _insert_table(self, shard: int, table: str, data: pa.Table) -> list[pa.Table]:
        """Insert one table's batch; returns quarantine rows for messages ClickHouse refused
        (they stay on this shard: its quarantine rows follow its stream order)."""
        rejected: list[pa.Table] = []
        for part in split_partitions(data, self.stored[shard].layouts[table]):
            for chunk in cut_at_messages(part, self.config.max_insert_rows):
                if await self._insert(shard, table, chunk):
                    self._count(table, chunk.num_rows)
                else:
                    rejected.extend(await self._insert_each_message(shard, table, chunk))
        return rejected

    def _count(self, table: str, rows: int) -> None:
        self.metrics.rows[table] = self.metrics.rows.get(table, 0) + rows

    async def _insert_each_message(self, shard: int, table: str, chunk: pa.Table) -> list[pa.Table]:
        """ClickHouse keeps refusing `chunk`: insert it message by message, quarantining the
        messages it refuses (in order, so the positions rule still holds)."""
        rejected: list[pa.Table] = []
        seqs = chunk.column("log_seq").to_numpy()
        starts = message_starts(chunk)
        for begin, end in zip(starts, starts[1:], strict=False):
            one = chunk.slice(begin, end - begin)
            if await self._insert(shard, table, one, attempts=1):
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
            rejected.append(self._refused_rows(shard, table, one, seq))
        return rejected

    def _refused_rows(self, shard: int, table: str, rows: pa.Table, seq: int) -> pa.Table:
        self.metrics.quarantined += 1
        run_id = str(rows.column("run_id")[0].as_py())
        day_column = self.stored[shard].layouts[table].day_column
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
        return self._drop_stored(shard, QUARANTINE, rows, seq)  # stored before a restart

    async def _insert(
        self, shard: int, table: str, data: pa.Table, *, attempts: int | None = None
    ) -> bool:
        """Insert with retries; False when a reachable server refused it `attempts` times."""
        limit = attempts or self.config.rejected_attempts
        refused = 0
        delay = self.config.backoff_initial_s
        while True:
            started = time.perf_counter()
            try:
                await asyncio.to_thread(self._insert_now, shard, table, data)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self.metrics.last_error = f"insert {table}: {_short(exc)}"
                if not _unreachable(exc) and await asyncio.to_thread(self._ping, shard):
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

    def _insert_now(self, shard: int, table: str, data: pa.Table) -> None:
        # one record batch: one block
        self.shards[shard].insert_arrow(f"{table}{self.suffix}", data.combine_chunks())

    def _ping(self, shard: int) -> bool:
        try:
            return bool(self.shards[shard].client.ping())
        except Exception:
            return False

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
