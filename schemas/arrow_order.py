"""The canonical order (`schemas.ordering`) over raw Arrow tables (`schemas.raw_arrow`).

The key columns of every table are sorted together with one `np.lexsort`; rows whose
(ts_recv, schema rank, publisher, instrument, sequence) tie are put in the order of their
events' canonical bytes, built for those rows only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from schemas.codec import encode_event
from schemas.events import Event
from schemas.ordering import _RANKS
from schemas.raw_arrow import events_of

IndexArray = npt.NDArray[np.int64]
_KEY_COLUMNS = ("publisher_id", "instrument_id", "sequence")


def _column(table: pa.Table, name: str) -> IndexArray:
    if name not in table.column_names:
        return np.zeros(table.num_rows, np.int64)
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.int64())
    return np.asarray(column.to_numpy(), np.int64)


Tables = Sequence[tuple[type[Event], pa.Table]]


def canonical_order(tables: Tables) -> tuple[IndexArray, IndexArray]:
    """Every row of `tables` in canonical order: (which table, which row) per position."""
    which = np.concatenate(
        [np.full(t.num_rows, i, np.int64) for i, (_, t) in enumerate(tables)] or [np.zeros(0)]
    ).astype(np.int64)
    rows = np.concatenate(
        [np.arange(t.num_rows, dtype=np.int64) for _, t in tables] or [np.zeros(0)]
    ).astype(np.int64)
    keys = [
        np.concatenate([_column(t, "ts_recv") for _, t in tables] or [np.zeros(0, np.int64)]),
        np.concatenate(
            [np.full(t.num_rows, _RANKS[k], np.int64) for k, t in tables] or [np.zeros(0, np.int64)]
        ),
        *(
            np.concatenate([_column(t, name) for _, t in tables] or [np.zeros(0, np.int64)])
            for name in _KEY_COLUMNS
        ),
    ]
    order = _lexsorted(keys)
    sorted_keys = [key[order] for key in keys]
    if len(order) > 1:
        same = np.ones(len(order) - 1, bool)
        for key in sorted_keys:
            same &= key[1:] == key[:-1]
        if same.any():
            order = _ties_by_bytes(order, same, tables, which, rows)
    return which[order], rows[order]


def _lexsorted(keys: list[IndexArray]) -> IndexArray:
    """`np.lexsort` of `keys` (first key major), sorting by receive time alone first: tables
    usually come each in order, which a stable sort merges in near-linear time, and only
    rows sharing a receive time then need the other keys."""
    ts = keys[0]
    order = np.argsort(ts, kind="stable")
    sorted_ts = ts[order]
    tied = sorted_ts[1:] == sorted_ts[:-1]
    if not tied.any():
        return order
    in_run = np.zeros(len(order), bool)
    in_run[1:] |= tied
    in_run[:-1] |= tied
    at = np.flatnonzero(in_run)
    run = np.cumsum(np.r_[True, ~tied])[at]
    sub = order[at]
    order[at] = sub[np.lexsort([key[sub] for key in keys[:0:-1]] + [run])]
    return order


def _ties_by_bytes(
    order: IndexArray,
    same_as_previous: npt.NDArray[np.bool_],
    tables: Tables,
    which: IndexArray,
    rows: IndexArray,
) -> IndexArray:
    """`order` with each run of tied keys sorted by its events' canonical bytes."""
    order = order.copy()
    starts = np.flatnonzero(same_as_previous & ~np.r_[False, same_as_previous[:-1]])
    for start in starts.tolist():
        stop = start + 1
        while stop < len(same_as_previous) and same_as_previous[stop]:
            stop += 1
        run = order[start : stop + 1]
        encoded = []
        for position in run.tolist():
            event_type, table = tables[int(which[position])]
            row = int(rows[position])
            encoded.append(encode_event(events_of(event_type, table.slice(row, 1))[0]))
        ranked = sorted(range(len(run)), key=encoded.__getitem__)
        order[start : stop + 1] = run[ranked]
    return order


def canonical_table(event_type: type[Event], tables: Sequence[pa.Table]) -> pa.Table:
    """Tables of one raw event type as one table in canonical order."""
    table = pa.concat_tables(tables) if len(tables) != 1 else tables[0]
    _, rows = canonical_order([(event_type, table)])
    return table.take(rows)
