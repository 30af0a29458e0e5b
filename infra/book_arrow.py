"""Databento order-book venue events (`schemas.book`) as the rows of `mbo_events` and
`mbp10_events`: one row per venue event, its records in feed order as one list of typed
structs (ClickHouse `Array(Tuple(...))`), MBP-10 levels as lists of structs inside them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec
import numpy as np
import pyarrow as pa

from infra.derived_arrow import columns_of
from schemas.book import BookLevel, MboEvent, MboRecord, Mbp10Event, Mbp10Record
from schemas.derived_tables import TIMESTAMP

LEVEL = pa.struct(
    [("price", pa.int64()), ("size", pa.uint32()), ("orders", pa.uint32())],
)
MBO_RECORD = pa.struct(
    [
        ("ts_event", TIMESTAMP),
        ("sequence", pa.uint64()),
        ("action", pa.string()),
        ("side", pa.string()),
        ("price", pa.int64()),
        ("size", pa.uint32()),
        ("order_id", pa.uint64()),
        ("flags", pa.uint8()),
    ]
)
MBP10_RECORD = pa.struct(
    [
        ("ts_event", TIMESTAMP),
        ("sequence", pa.uint64()),
        ("action", pa.string()),
        ("side", pa.string()),
        ("depth", pa.uint8()),
        ("price", pa.int64()),
        ("size", pa.uint32()),
        ("flags", pa.uint8()),
        ("bids", pa.list_(LEVEL)),
        ("asks", pa.list_(LEVEL)),
    ]
)
_RECORD_TYPES: dict[pa.StructType, type[msgspec.Struct]] = {
    MBO_RECORD: MboRecord,
    MBP10_RECORD: Mbp10Record,
    LEVEL: BookLevel,
}


def _event_schema(record: pa.StructType) -> pa.Schema:
    return pa.schema(
        [
            ("ts_recv", TIMESTAMP),
            ("ts_event", TIMESTAMP),
            ("publisher_id", pa.uint16()),
            ("instrument_id", pa.uint32()),
            ("source", pa.string()),
            ("symbol", pa.string()),
            ("venue", pa.string()),
            ("sequence", pa.uint64()),
            ("records", pa.list_(record)),
            ("schema_version", pa.uint16()),
        ]
    )


MBO_EVENTS = _event_schema(MBO_RECORD)
MBP10_EVENTS = _event_schema(MBP10_RECORD)


def _array(values: Sequence[Any], arrow_type: pa.DataType) -> pa.Array:
    if isinstance(arrow_type, pa.ListType):
        return _nested(values, arrow_type.value_type)
    if arrow_type == TIMESTAMP:  # same array, built without per-value conversion
        return pa.array(values, pa.int64()).view(TIMESTAMP)
    return pa.array(values, arrow_type)


def _nested(groups: Sequence[Sequence[msgspec.Struct]], struct: pa.StructType) -> pa.ListArray:
    """One list of structs per group, the groups' records flattened once per nesting level."""
    flat = [record for group in groups for record in group]
    values = columns_of(flat, _RECORD_TYPES[struct])
    children = [_array(values[field.name], field.type) for field in struct]
    items = pa.StructArray.from_arrays(children, fields=list(struct))
    offsets = np.zeros(len(groups) + 1, np.int32)
    np.cumsum(np.fromiter(map(len, groups), np.int32, len(groups)), out=offsets[1:])
    return pa.ListArray.from_arrays(pa.array(offsets), items, type=pa.list_(struct))


def book_events_table(events: Sequence[MboEvent] | Sequence[Mbp10Event]) -> pa.Table:
    """The rows of one type of order-book venue event (without `run_id` and `log_seq`)."""
    event_type = type(events[0])
    schema = MBO_EVENTS if event_type is MboEvent else MBP10_EVENTS
    values = columns_of(events, event_type)
    arrays = [_array(values[field.name], field.type) for field in schema]
    return pa.Table.from_arrays(arrays, schema=schema)
