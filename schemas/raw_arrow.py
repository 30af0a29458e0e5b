"""The RAW codec of the columnar log: raw market events of one type as one Arrow table.

A raw table has one column per event field, named as the field and in the struct's field
order (`ts_recv` and `schema_version` first), with the types the raw ClickHouse tables get:
integers int64, timestamps (`ts_*`, `expiration`, `*_ts_recv`) `timestamp('ns', 'UTC')`,
undefined values NULL. The writer puts `run_id` and `log_seq` in front (`stored`). A message
body is one Arrow IPC stream (`encode_batch` / `decode_batch`).
"""

from __future__ import annotations

from typing import Any

import msgspec
import pyarrow as pa

from schemas.cme import CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.codec import CodecError
from schemas.derived_tables import TIMESTAMP
from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)

_I64, _STR, _BOOL = pa.int64(), pa.string(), pa.bool_()


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, arrow_type) for name, arrow_type in fields])


_MARKET = (
    ("ts_recv", TIMESTAMP),
    ("schema_version", _I64),
    ("ts_event", TIMESTAMP),
    ("publisher_id", _I64),
    ("instrument_id", _I64),
    ("source", _STR),
    ("symbol", _STR),
)
_BBO = (("bid_px", _I64), ("ask_px", _I64), ("bid_sz", _I64), ("ask_sz", _I64))

RAW_SCHEMAS: dict[type[Event], pa.Schema] = {
    OptionContract: _schema(
        *_MARKET,
        ("underlying", _STR),
        ("right", _STR),
        ("strike_price", _I64),
        ("expiration", TIMESTAMP),
        ("multiplier", _I64),
    ),
    OptionPrint: _schema(
        *_MARKET,
        ("sequence", _I64),
        ("underlying", _STR),
        ("price", _I64),
        ("size", _I64),
        ("side", _STR),
        ("flags", _I64),
        ("coarse", _BOOL),
        *_BBO,
    ),
    OptionQuote: _schema(
        *_MARKET,
        ("sequence", _I64),
        ("underlying", _STR),
        *_BBO,
        ("bid_pb", _I64),
        ("ask_pb", _I64),
        ("sampled", _BOOL),
    ),
    EquityPrint: _schema(
        *_MARKET,
        ("sequence", _I64),
        ("venue", _STR),
        ("off_exchange", _BOOL),
        ("price", _I64),
        ("size", _I64),
        ("side", _STR),
        ("flags", _I64),
        *_BBO,
    ),
    EquityQuote: _schema(*_MARKET, ("sequence", _I64), ("venue", _STR), *_BBO),
    OpenInterest: _schema(
        *_MARKET, ("sequence", _I64), ("underlying", _STR), ("open_interest", _I64)
    ),
    Heartbeat: _schema(("ts_recv", TIMESTAMP), ("schema_version", _I64), ("source", _STR)),
    Gap: _schema(
        ("ts_recv", TIMESTAMP),
        ("schema_version", _I64),
        ("source", _STR),
        ("dropped_trades", _I64),
        ("first_ts_recv", TIMESTAMP),
        ("last_ts_recv", TIMESTAMP),
        ("reason", _STR),
        ("dropped_book_events", _I64),
    ),
    Quarantined: _schema(
        ("ts_recv", TIMESTAMP),
        ("schema_version", _I64),
        ("source", _STR),
        ("reason", _STR),
        ("detail", _STR),
        ("payload", pa.binary()),
    ),
    CmeInstrument: _schema(
        *_MARKET,
        ("instrument_class", _STR),
        ("asset", _STR),
        ("expiration", TIMESTAMP),
        ("multiplier", _I64),
        ("tick", _I64),
        ("cfi", _STR),
        ("strike_price", _I64),
        ("underlying_id", _I64),
        ("underlying_symbol", _STR),
    ),
    CmeTrade: _schema(
        *_MARKET,
        ("sequence", _I64),
        ("price", _I64),
        ("size", _I64),
        ("side", _STR),
        ("flags", _I64),
    ),
    CmeQuote: _schema(*_MARKET, ("sequence", _I64), *_BBO, ("sampled", _BOOL)),
    CmeStatistic: _schema(
        *_MARKET,
        ("sequence", _I64),
        ("stat_type", _I64),
        ("price", _I64),
        ("quantity", _I64),
        ("update_action", _I64),
        ("stat_flags", _I64),
    ),
}
"""Each raw event type's table schema (the event columns of its ClickHouse table)."""

_STORED_PREFIX = pa.schema([pa.field("run_id", _STR), pa.field("log_seq", pa.uint64())])


def stored(table: pa.Table, *, run_id: str, log_seq: int = 0) -> pa.Table:
    """A raw table as the writer stores it: `run_id` and `log_seq` in front of its columns."""
    n = table.num_rows
    prefix = [
        pa.repeat(pa.scalar(run_id, _STR), n),
        pa.repeat(pa.scalar(log_seq, pa.uint64()), n),
    ]
    schema = pa.schema([*_STORED_PREFIX, *table.schema])
    return pa.Table.from_arrays([*prefix, *table.columns], schema=schema)


def event_type_of(table: pa.Table) -> type[Event]:
    """The raw event type whose columns `table` has; `CodecError` for any other table."""
    for event_type, schema in RAW_SCHEMAS.items():
        if table.schema.equals(schema):
            return event_type
    raise CodecError(f"expected the columns of a raw event type, got {table.schema}")


def encode_batch(table: pa.Table) -> bytes:
    """One message body: a raw table as one Arrow IPC stream."""
    event_type_of(table)
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as out:
        out.write_table(table)
    body: bytes = sink.getvalue().to_pybytes()
    return body


def decode_batch(data: bytes) -> pa.Table:
    """A message body back as its raw table; `CodecError` saying what was wrong."""
    try:
        table = pa.ipc.open_stream(data).read_all()
    except (pa.ArrowInvalid, OSError) as exc:
        raise CodecError(f"expected an Arrow IPC stream of raw events: {exc}") from exc
    event_type_of(table)
    return table


def _row_values(table: pa.Table) -> list[dict[str, Any]]:
    """The rows as dicts, timestamps as integer nanoseconds (Python datetimes would lose them)."""
    columns = [
        column.cast(_I64) if pa.types.is_timestamp(column.type) else column
        for column in table.columns
    ]
    rows: list[dict[str, Any]] = pa.Table.from_arrays(columns, names=table.column_names).to_pylist()
    return rows


def events_of(event_type: type[Event], table: pa.Table) -> list[Event]:
    """The table's rows as event structs (the slow path, for the few rows that need one)."""
    return [msgspec.convert(row, event_type) for row in _row_values(table)]
