"""Recorded sessions through the engine, as fast as the machine allows, into ClickHouse.

The driver feeds raw events, already in canonical order, to the same `compute.step` the live
service runs, in chunks; raw and derived events go to ClickHouse under the run id while the
engine works on the next chunk (writer threads: clickhouse-connect releases the GIL while it
waits on the server). At the end `compute.finish` closes what is still open.
"""

from __future__ import annotations

import gc
import queue
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

import compute
from infra.warehouse import Warehouse
from schemas.events import Event, FlowPacket, OptionPrint, Quarantined

ProgressCallback = Callable[[int, int], None]  # (events just done, last ts_recv)


@dataclass
class ReplaySummary:
    run_id: str
    events: int = 0
    prints: int = 0
    outputs: Counter[str] = field(default_factory=Counter)
    packets_by_kind: Counter[str] = field(default_factory=Counter)
    quarantined: int = 0
    wall_s: float = 0.0

    @property
    def prints_per_s(self) -> float:
        return self.prints / self.wall_s if self.wall_s else 0.0


class _Writer:
    """Inserts batches of events from background threads.

    While one thread waits on ClickHouse (which releases the GIL) another converts its batch
    to Arrow or has its own insert in flight, so the server and the engine keep both cores
    busy: a 500 k-print replay (bench_replay.py) took 18-21 s with one thread, 14-15 s with
    two, 13-14 s with three. Batches may land out of order; what is stored does not depend on it
    (rows are sorted by each table's key; the views keep sums, or first and last by event keys).
    """

    def __init__(
        self, warehouse: Warehouse, run_id: str, *, depth: int = 4, threads: int = 3
    ) -> None:
        self.warehouse = warehouse  # one client: thread-safe without a session id
        self.run_id = run_id
        self._queue: queue.Queue[list[Event] | None] = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
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
                    self.warehouse.insert_events(batch, run_id=self.run_id)
                except BaseException as exc:  # reported to the caller by put() / close()
                    self._error = self._error or exc

    def put(self, events: list[Event]) -> None:
        if self._error is not None:
            raise self._error
        if events:
            self._queue.put(events)

    def close(self) -> None:
        for _ in self._threads:
            self._queue.put(None)
        for thread in self._threads:
            thread.join()
        if self._error is not None:
            raise self._error


def chunks(events: Iterable[Event], size: int) -> Iterator[list[Event]]:
    iterator = iter(events)
    while chunk := list(islice(iterator, size)):
        yield chunk


def replay_events(
    events: Iterable[Event],
    *,
    run_id: str,
    config: compute.EngineConfig,
    warehouse: Warehouse,
    state: compute.EngineState | None = None,
    store_raw: bool = True,
    chunk_size: int = 50_000,
    progress: ProgressCallback | None = None,
) -> ReplaySummary:
    """Run `events` (canonical order) through the engine and store everything under `run_id`."""
    started = time.perf_counter()
    summary = ReplaySummary(run_id=run_id)
    collecting = gc.isenabled()
    gc.disable()  # a bounded run: cycle collection waits for the end (a 3x speed-up)
    engine_state = state if state is not None else compute.initial_state(config, run_id)
    writer = _Writer(warehouse, run_id)
    try:
        for chunk in chunks(events, chunk_size):
            engine_state, outputs = compute.step(engine_state, chunk)
            _count(summary, chunk, outputs)
            writer.put(chunk if store_raw else [])
            writer.put(outputs)
            if progress is not None:
                progress(len(chunk), getattr(chunk[-1], "ts_recv", 0))
        engine_state, outputs = compute.finish(engine_state)
        _count(summary, [], outputs)
        writer.put(outputs)
    finally:
        writer.close()
        if collecting:
            gc.enable()
    summary.wall_s = time.perf_counter() - started
    return summary


def _count(summary: ReplaySummary, raw: list[Event], outputs: list[Event]) -> None:
    summary.events += len(raw)
    summary.prints += sum(1 for e in raw if isinstance(e, OptionPrint))
    summary.quarantined += sum(1 for e in raw if isinstance(e, Quarantined))
    for event in outputs:
        summary.outputs[type(event).__name__] += 1
        if isinstance(event, FlowPacket):
            summary.packets_by_kind[event.kind] += 1
