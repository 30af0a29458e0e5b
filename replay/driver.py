"""Recorded sessions through the engine, as fast as the machine allows, into ClickHouse.

The driver feeds raw events, already in canonical order, to the same kernel engine the live
service runs (`compute.flow.kernel_engine`), in chunks (or raw Arrow tables, from DBN files
without an event object per print or quote: `replay_tables`); raw events, the derived tables and
the rare derived events go to ClickHouse under the run id while the engine works on the next
chunk (writer threads: clickhouse-connect releases the GIL while it waits on the server). At
the end the engine's `finish` closes what is still open. A sharded
replay runs one engine process per group of underlyings (`compute.flow.shards`), each storing
its own part.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from itertools import islice
from multiprocessing.connection import Connection

import pyarrow as pa
import pyarrow.compute as pc

import compute.flow as flow
from compute.flow.columnar import ColumnarState
from compute.flow.kernel_engine import KernelEngine, KernelStep
from compute.flow.shards import BROADCAST, Router
from infra.warehouse import NOT_STORED, TABLES, Warehouse, stored_table, tables_for
from ingest.databento.files import TRUNCATED
from replay.table_merge import ts_recv_of
from schemas.codec import decode_batch, encode_batch
from schemas.events import Event, FlowPacket, OptionPrint, PrintInference, Quarantined
from schemas.raw_arrow import stored

ProgressCallback = Callable[[int, int], None]  # (events just done, last ts_recv)


def use_system_allocator() -> None:
    """Build Arrow buffers with the C library's allocator, in this process and in the engine
    processes it spawns. pyarrow's default (mimalloc) hands freed pages back to the OS and
    the next batch's tables fault them in again: on this machine that was a third of the
    tables' time (`bench/bench_engine.py --arrow-pool mimalloc` shows it)."""
    os.environ["ARROW_DEFAULT_MEMORY_POOL"] = "system"
    pa.set_memory_pool(pa.system_memory_pool())


@dataclass
class ReplaySummary:
    """What a replay read (`raw`: events per type name) and derived; `truncated` names each
    input that stopped short and how much of it was read."""

    run_id: str
    events: int = 0
    raw: Counter[str] = field(default_factory=Counter)
    outputs: Counter[str] = field(default_factory=Counter)
    packets_by_kind: Counter[str] = field(default_factory=Counter)
    truncated: list[str] = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def prints(self) -> int:
        return self.raw[OptionPrint.__name__]

    @property
    def quarantined(self) -> int:
        return self.raw[Quarantined.__name__]

    @property
    def prints_per_s(self) -> float:
        return self.prints / self.wall_s if self.wall_s else 0.0


INSERT_ROWS = 250_000  # rows per table per insert: fewer, larger parts cost ClickHouse less


@dataclass(frozen=True, slots=True)
class _StoredTables:
    """Tables already as stored (raw tables with `run_id` and `log_seq` in front)."""

    tables: dict[str, pa.Table]


class TableWriter:
    """Converts batches of events to Arrow in background threads and inserts them per table
    once `insert_rows` rows of that table have gathered (the rest at `close`).

    While one thread waits on ClickHouse (which releases the GIL) another converts its batch
    to Arrow or has its own insert in flight, so the server and the engine keep both cores
    busy: a 500 k-print replay (bench_replay.py) took 18-21 s with one thread, 14-15 s with
    two, 13-14 s with three. Inserts may land out of order; what is stored does not depend on
    it (rows are sorted by each table's key; the views keep sums, or first and last by event
    keys). A step's derived events come in one batch: a packet's hits decide its row.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        run_id: str,
        *,
        depth: int = 4,
        threads: int = 3,
        insert_rows: int = INSERT_ROWS,
    ) -> None:
        self.warehouse = warehouse  # one client: thread-safe without a session id
        self.run_id = run_id
        self.insert_rows = insert_rows
        self._queue: queue.Queue[list[Event] | dict[str, pa.Table] | _StoredTables | None] = (
            queue.Queue(maxsize=depth)
        )
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._gathered: dict[str, list[pa.Table]] = {}
        self._gathered_rows: Counter[str] = Counter()
        self._threads = [
            threading.Thread(target=self._work, name=f"replay-writer-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    def _work(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is None:
                try:
                    if isinstance(batch, _StoredTables):
                        tables = batch.tables
                    elif isinstance(batch, dict):  # derived tables, as the engine built them
                        tables = {
                            name: stored_table(data, run_id=self.run_id, log_seqs=[0] * len(data))
                            for name, data in batch.items()
                        }
                    else:
                        tables = tables_for(batch, run_id=self.run_id, log_seqs=[0] * len(batch))
                    for table, data in self._gather(tables):
                        self.warehouse.insert_arrow(table, data)
                except BaseException as exc:  # reported to the caller by put() / close()
                    self._error = self._error or exc

    def _gather(self, tables: dict[str, pa.Table]) -> list[tuple[str, pa.Table]]:
        """Add `tables` to what is gathered; returns the tables now big enough to insert."""
        due: list[tuple[str, pa.Table]] = []
        with self._lock:
            for table, data in tables.items():
                self._gathered.setdefault(table, []).append(data)
                self._gathered_rows[table] += data.num_rows
                if self._gathered_rows[table] >= self.insert_rows:
                    due.append((table, self._take(table)))
        return due

    def _take(self, table: str) -> pa.Table:
        parts = self._gathered.pop(table)
        del self._gathered_rows[table]
        # one record batch: one block; tables of one type share their schema
        return pa.concat_tables(parts, promote_options="default").combine_chunks()

    def put(self, events: list[Event]) -> None:
        if self._error is not None:
            raise self._error
        if events:
            self._queue.put(events)

    def put_step(self, step: KernelStep) -> None:
        """A kernel step's derived tables and events."""
        if self._error is not None:
            raise self._error
        tables = {name: data for name, data in step.tables.items() if data.num_rows}
        if tables:
            self._queue.put(tables)
        self.put(step.events)

    def put_raw_tables(self, tables: Mapping[type[Event], pa.Table]) -> None:
        """Raw tables (`schemas.raw_arrow`) of any types, stored as they are."""
        if self._error is not None:
            raise self._error
        stored_tables = {
            TABLES[event_type]: stored(data, run_id=self.run_id)
            for event_type, data in tables.items()
            if data.num_rows and event_type not in NOT_STORED
        }
        if stored_tables:
            self._queue.put(_StoredTables(stored_tables))

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        if self._error is not None:
            raise self._error
        for table in list(self._gathered):
            self.warehouse.insert_arrow(table, self._take(table))


def chunks(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, size)):
        yield chunk


def replay_events(
    events: Iterable[Event],
    *,
    run_id: str,
    config: flow.EngineConfig,
    warehouse: Warehouse,
    state: ColumnarState | None = None,
    store_raw: bool = True,
    chunk_size: int = 50_000,
    progress: ProgressCallback | None = None,
    shards: int = 1,
    weights: Mapping[str, int] | None = None,
) -> ReplaySummary:
    """Run `events` (canonical order) through the engine and store everything under `run_id`.

    With `shards` > 1 the underlyings are split over that many engine processes
    (`compute.flow.shards`; `weights`, e.g. prints per underlying, balance them); what is stored
    is the same as with one engine. A replay from a saved `state` runs in one engine.
    """
    started = time.perf_counter()
    summary = ReplaySummary(run_id=run_id)
    if shards > 1:
        if state is not None:
            raise ValueError("a replay from a saved engine state runs in one engine (shards=1)")
        _replay_sharded(
            events, summary, config, warehouse, store_raw, chunk_size, progress, shards, weights
        )
    else:
        _replay_one(events, summary, config, warehouse, state, store_raw, chunk_size, progress)
    summary.wall_s = time.perf_counter() - started
    return summary


def _replay_one(
    events: Iterable[Event],
    summary: ReplaySummary,
    config: flow.EngineConfig,
    warehouse: Warehouse,
    state: ColumnarState | None,
    store_raw: bool,
    chunk_size: int,
    progress: ProgressCallback | None,
) -> None:
    run_id = summary.run_id
    collecting = gc.isenabled()
    gc.disable()  # a bounded run: cycle collection waits for the end (a 3x speed-up)
    engine = KernelEngine(state) if state is not None else KernelEngine.new(config, run_id)
    writer = TableWriter(warehouse, run_id)
    try:
        batches = _counted(chunks(events, chunk_size), summary, progress)
        _run_engine(batches, engine, writer, summary.outputs, summary.packets_by_kind,
                    lambda batch: batch if store_raw else [])  # fmt: skip
    finally:
        writer.close()
        if collecting:
            gc.enable()


def replay_tables(
    chunks: Iterable[Mapping[type[Event], pa.Table]],
    *,
    run_id: str,
    config: flow.EngineConfig,
    warehouse: Warehouse,
    store_raw: bool = True,
    progress: ProgressCallback | None = None,
) -> ReplaySummary:
    """Chunks of raw tables, each chunk whole in the canonical order and after the one before
    (`replay.sources.dbn_table_chunks`), through one engine: stores what `replay_events`
    stores for the same events, the raw tables inserted as they are."""
    started = time.perf_counter()
    summary = ReplaySummary(run_id=run_id)
    collecting = gc.isenabled()
    gc.disable()  # a bounded run, as in `_replay_one`
    engine = KernelEngine.new(config, run_id)
    writer = TableWriter(warehouse, run_id)
    try:
        for chunk in chunks:
            step = engine.step_arrow(chunk)
            _count_outputs(summary.outputs, summary.packets_by_kind, step)
            if store_raw:
                writer.put_raw_tables(chunk)
            writer.put_step(step)
            _count_tables(summary, chunk, progress)
        step = engine.finish()
        _count_outputs(summary.outputs, summary.packets_by_kind, step)
        writer.put_step(step)
    finally:
        writer.close()
        if collecting:
            gc.enable()
    summary.wall_s = time.perf_counter() - started
    return summary


def _count_tables(
    summary: ReplaySummary, chunk: Mapping[type[Event], pa.Table], progress: ProgressCallback | None
) -> None:
    """A chunk of tables counted in the summary, as `_counted` counts a batch of events."""
    rows = sum(table.num_rows for table in chunk.values())
    summary.events += rows
    summary.raw.update({t.__name__: table.num_rows for t, table in chunk.items()})
    quarantined = chunk.get(Quarantined)
    if quarantined is not None:
        truncated = pc.equal(quarantined.column("reason"), TRUNCATED)
        summary.truncated += quarantined.filter(truncated).column("detail").to_pylist()
    if progress is not None and rows:
        progress(rows, max(int(ts_recv_of(table)[-1]) for table in chunk.values()))


def _counted(
    batches: Iterable[list[Event]], summary: ReplaySummary, progress: ProgressCallback | None
) -> Iterator[list[Event]]:
    """`batches`, each counted in the summary and reported once the caller has handled it
    (run it through the engine, or routed it to the shards)."""
    for batch in batches:
        yield batch
        summary.events += len(batch)
        types = Counter(map(type, batch))
        summary.raw.update({kind.__name__: count for kind, count in types.items()})
        if Quarantined in types:
            summary.truncated += [
                e.detail for e in batch if isinstance(e, Quarantined) and e.reason == TRUNCATED
            ]
        if progress is not None:
            progress(len(batch), batch[-1].ts_recv)


def _run_engine(
    batches: Iterable[list[Event]],
    engine: KernelEngine,
    writer: TableWriter,
    outputs: Counter[str],
    kinds: Counter[str],
    raw_to_store: Callable[[list[Event]], list[Event]],
) -> None:
    """Every batch through the engine, then `finish`; raw and derived outputs to `writer`."""
    for batch in batches:
        step = engine.step(batch)
        _count_outputs(outputs, kinds, step)
        writer.put(raw_to_store(batch))
        writer.put_step(step)
    step = engine.finish()
    _count_outputs(outputs, kinds, step)
    writer.put_step(step)


def _replay_sharded(
    events: Iterable[Event],
    summary: ReplaySummary,
    config: flow.EngineConfig,
    warehouse: Warehouse,
    store_raw: bool,
    chunk_size: int,
    progress: ProgressCallback | None,
    shards: int,
    weights: Mapping[str, int] | None,
) -> None:
    """This process reads and routes; one spawned process per shard runs an engine and
    stores its raw and derived events. Chunks travel as msgpack over a pipe each."""
    if warehouse.url is None:
        raise ValueError("a sharded replay needs a Warehouse made by Warehouse.connect(url)")
    context = multiprocessing.get_context("spawn")  # no fork: this process has threads
    results: multiprocessing.SimpleQueue[_ShardResult] = context.SimpleQueue()
    router = Router(shards, weights)
    senders: list[Connection] = []
    workers: list[multiprocessing.process.BaseProcess] = []
    try:
        for shard in range(shards):
            receiver, sender = context.Pipe(duplex=False)
            worker = context.Process(
                target=_shard_main,
                args=(
                    shard,
                    summary.run_id,
                    config,
                    warehouse.url,
                    warehouse.database,
                    store_raw,
                    receiver,
                    results,
                ),
                name=f"replay-shard-{shard}",
                daemon=True,
            )
            worker.start()
            receiver.close()  # the worker's end: its exit then breaks this pipe
            senders.append(sender)
            workers.append(worker)
        try:
            for chunk in _counted(chunks(events, chunk_size), summary, progress):
                for sender, part in zip(senders, router.route(chunk), strict=True):
                    if part:
                        sender.send_bytes(encode_batch(part))
            for sender in senders:
                sender.send_bytes(encode_batch([]))  # end of session: finish and report
        except BrokenPipeError:
            pass  # a shard stopped early; its report below says why
        for sender in senders:
            sender.close()  # a shard still waiting for input now sees its end
        errors: list[str] = []
        reported = 0
        while reported < shards:  # each shard reports once, unless it was killed
            if results.empty():
                if not any(worker.is_alive() for worker in workers) and results.empty():
                    break
                time.sleep(0.05)
                continue
            shard, error, outputs, kinds = results.get()
            reported += 1
            if error:
                errors.append(f"shard {shard}: {error}")
            summary.outputs.update(outputs)
            summary.packets_by_kind.update(kinds)
        for worker in workers:
            worker.join()
        errors += [
            f"shard {n}: exited with code {w.exitcode}" for n, w in enumerate(workers) if w.exitcode
        ]
        if errors:
            raise RuntimeError("sharded replay failed: " + "; ".join(errors))
    finally:
        for sender in senders:
            sender.close()
        for worker in workers:
            if worker.is_alive():
                worker.terminate()
                worker.join()


_ShardResult = tuple[int, str, dict[str, int], dict[str, int]]


def _shard_main(
    shard: int,
    run_id: str,
    config: flow.EngineConfig,
    url: str,
    database: str,
    store_raw: bool,
    receiver: Connection,
    results: multiprocessing.SimpleQueue[_ShardResult],
) -> None:
    """One shard's engine: batches from `receiver` until an empty one, then `finish`."""
    outputs: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    error = ""
    gc.disable()  # a bounded run, as in `_replay_one`

    def raw_to_store(batch: list[Event]) -> list[Event]:
        if not store_raw:
            return []
        # events sent to every shard are stored by the first one
        return batch if shard == 0 else [e for e in batch if type(e) not in BROADCAST]

    try:
        with Warehouse.connect(url, database, create=False) as warehouse:
            writer = TableWriter(warehouse, run_id)
            try:
                batches = iter(lambda: decode_batch(receiver.recv_bytes()), [])
                _run_engine(batches, KernelEngine.new(config, run_id), writer, outputs,
                            kinds, raw_to_store)  # fmt: skip
            finally:
                writer.close()
    except BaseException as exc:  # reported to the parent, which raises it
        error = f"{type(exc).__name__}: {exc}"
    finally:
        receiver.close()
        results.put((shard, error, dict(outputs), dict(kinds)))


def _count_outputs(outputs: Counter[str], kinds: Counter[str], step: KernelStep) -> None:
    outputs[PrintInference.__name__] += step.prints
    outputs[FlowPacket.__name__] += sum(step.packets_by_kind.values())
    kinds.update(step.packets_by_kind)
    for event in step.events:
        outputs[type(event).__name__] += 1
