"""Raw Arrow tables of several files merged into one canonical stream of chunks, in bounded
memory (what `ingest.merge` does for events).

Each file gives its tables piece by piece, every table's rows in file order and the file's
rows as a whole never going back in receive time (`ingest.databento.arrow`). The file that
has reached the earliest receive time is read next; rows before the earliest time any
unfinished file has reached can no longer be joined by earlier ones, so they are released
as a chunk in canonical order once there are enough of them. A chunk ends at a receive time:
rows sharing one stay together, so every chunk is whole in the canonical order.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import numpy as np
import pyarrow as pa

from schemas.arrow_order import canonical_table
from schemas.events import Event

TablesByType = dict[type[Event], list[pa.Table]]
Chunk = dict[type[Event], pa.Table]


def ts_recv_of(table: pa.Table) -> np.ndarray:
    """A raw table's receive times as integer nanoseconds."""
    return np.asarray(table.column("ts_recv").cast(pa.int64()).to_numpy(), np.int64)


class _File:
    """One file's tables read so far and not yet released."""

    def __init__(self, pieces: Iterable[TablesByType]) -> None:
        self._pieces = iter(pieces)
        self.tables: dict[type[Event], pa.Table] = {}
        self.reached = -1  # the latest receive time read: later rows are at or after it
        self.done = False

    def read(self) -> None:
        piece = next(self._pieces, None)
        if piece is None:
            self.done = True
            return
        for event_type, parts in piece.items():
            parts = [part for part in parts if part.num_rows]
            if not parts:
                continue
            held = self.tables.get(event_type)
            self.tables[event_type] = pa.concat_tables([held, *parts] if held else parts)
            self.reached = max(self.reached, max(int(ts_recv_of(p)[-1]) for p in parts))

    def rows_before(self, ts: int | None) -> int:
        if ts is None:
            return sum(table.num_rows for table in self.tables.values())
        return sum(int(np.searchsorted(ts_recv_of(t), ts)) for t in self.tables.values())

    def release(self, ts: int | None) -> TablesByType:
        """The rows before `ts` (all with None), taken out."""
        released: TablesByType = {}
        for event_type, table in list(self.tables.items()):
            cut = table.num_rows if ts is None else int(np.searchsorted(ts_recv_of(table), ts))
            if cut:
                released[event_type] = [table.slice(0, cut)]
            if cut == table.num_rows:
                del self.tables[event_type]
            else:
                self.tables[event_type] = table.slice(cut)
        return released


def merged_chunks(files: Iterable[Iterable[TablesByType]], rows: int) -> Iterator[Chunk]:
    """The files' rows as chunks of at least `rows` rows (but the last), in canonical order."""
    opened = [_File(pieces) for pieces in files]
    while True:
        reading = [f for f in opened if not f.done]
        if reading:
            min(reading, key=lambda f: f.reached).read()
            reading = [f for f in reading if not f.done]
        final = min((f.reached for f in reading), default=None)
        if reading and sum(f.rows_before(final) for f in opened) < rows:
            continue
        by_type: TablesByType = {}
        for f in opened:
            for event_type, parts in f.release(final).items():
                by_type.setdefault(event_type, []).extend(parts)
        if by_type:
            yield {t: canonical_table(t, parts) for t, parts in by_type.items()}
        if not reading:
            return


def table_chunks(tables: Chunk, rows: int) -> Iterator[Chunk]:
    """Tables in canonical order cut into chunks of about `rows` rows in all, at receive
    times (rows sharing one stay together, so each chunk is whole in the canonical order)."""
    times = {t: ts_recv_of(table) for t, table in tables.items() if table.num_rows}
    if not times:
        return
    merged = np.sort(np.concatenate(list(times.values())), kind="stable")
    bounds = np.unique(merged[rows::rows])
    cuts = {t: [0, *np.searchsorted(ts, bounds).tolist(), len(ts)] for t, ts in times.items()}
    for n in range(len(bounds) + 1):
        chunk = {t: tables[t].slice(c[n], c[n + 1] - c[n]) for t, c in cuts.items()}
        yield {t: table for t, table in chunk.items() if table.num_rows}
