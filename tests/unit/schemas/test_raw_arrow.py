"""The RAW codec: raw events as Arrow tables with the raw ClickHouse tables' columns."""

from __future__ import annotations

import msgspec
import numpy as np
import pyarrow as pa
import pytest

from infra.warehouse import events_to_arrow
from schemas.arrow_order import _lexsorted, canonical_order, canonical_table
from schemas.codec import CodecError
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
from schemas.ordering import canonical_sort
from schemas.raw_arrow import (
    RAW_SCHEMAS,
    decode_batch,
    encode_batch,
    event_type_of,
    events_of,
    stored,
)

T = 1_740_061_800_000_000_000
MARKET = {"ts_event": T - 5, "publisher_id": 30, "instrument_id": 7, "source": "databento"}
SYMBOL = "AAPL  250221C00250000"


def one_of_each() -> list[Event]:
    return [
        OptionContract(
            ts_recv=T,
            **MARKET,
            symbol=SYMBOL,
            underlying="AAPL",
            right="C",
            strike_price=250 * 10**9,
            expiration=None,
        ),  # fmt: skip
        OptionPrint(
            ts_recv=T,
            **MARKET,
            symbol=SYMBOL,
            sequence=3,
            underlying="AAPL",
            price=1_250_000_000,
            size=4,
            bid_px=1_200_000_000,
            ask_px=None,
            bid_sz=2,
            ask_sz=None,
        ),  # fmt: skip
        OptionQuote(
            ts_recv=T,
            **MARKET,
            symbol=SYMBOL,
            sequence=4,
            underlying="AAPL",
            bid_px=None,
            ask_px=5,
            bid_sz=0,
            ask_sz=9,
            bid_pb=22,
            sampled=True,
        ),  # fmt: skip
        EquityPrint(
            ts_recv=T,
            **MARKET,
            symbol="AAPL",
            sequence=5,
            venue="FINN",
            off_exchange=True,
            price=10,
            size=100,
        ),  # fmt: skip
        EquityQuote(
            ts_recv=T,
            **MARKET,
            symbol="AAPL",
            sequence=6,
            venue="XNAS",
            bid_px=9,
            ask_px=11,
            bid_sz=1,
            ask_sz=2,
        ),  # fmt: skip
        OpenInterest(
            ts_recv=T, **MARKET, symbol=SYMBOL, sequence=7, underlying="AAPL", open_interest=1234
        ),  # fmt: skip
        Heartbeat(ts_recv=T, source="databento"),
        Gap(
            ts_recv=T,
            source="databento",
            dropped_trades=3,
            first_ts_recv=T - 9,
            last_ts_recv=T - 1,
            reason="buffer_full",
        ),  # fmt: skip
        Quarantined(ts_recv=T, source="databento", reason="empty_quote", payload=b"\x00\x01"),
    ]


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: type(e).__name__)
def test_each_raw_schema_is_the_stored_table_of_events_to_arrow(event: Event) -> None:
    expected = events_to_arrow([event, event], run_id="r", log_seqs=[0, 0])
    table = events_of_table(event)
    assert table.schema.equals(RAW_SCHEMAS[type(event)])
    assert stored(table, run_id="r").equals(expected)
    assert events_of(type(event), table) == [event, event]


def events_of_table(event: Event) -> pa.Table:
    return events_to_table([event, event])


@pytest.mark.parametrize("event", one_of_each(), ids=lambda e: type(e).__name__)
def test_a_table_survives_the_ipc_codec_and_names_its_type(event: Event) -> None:
    table = events_of_table(event)
    decoded = decode_batch(encode_batch(table))
    assert decoded.equals(table)
    assert event_type_of(decoded) is type(event)


def test_the_codec_refuses_what_is_not_a_raw_table() -> None:
    with pytest.raises(CodecError, match=r"^\[codec\] expected the columns of a raw event"):
        encode_batch(pa.table({"x": [1]}))
    with pytest.raises(CodecError, match=r"^\[codec\] expected an Arrow IPC stream"):
        decode_batch(b"not arrow")
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, pa.schema([("x", pa.int64())])) as out:
        out.write_table(pa.table({"x": [1]}))
    with pytest.raises(CodecError, match=r"columns of a raw event"):
        decode_batch(sink.getvalue().to_pybytes())


def test_canonical_order_over_tables_is_that_of_the_events() -> None:
    # every type at one receive time, ties on the whole key (three quarantines), and
    # prints whose order is decided by publisher, instrument, sequence and then bytes
    events = one_of_each() + [
        Quarantined(ts_recv=T, source="databento", reason=reason) for reason in "cab"
    ]
    p = one_of_each()[1]
    assert isinstance(p, OptionPrint)
    keys = [
        (31, 7, 3, 1),
        (30, 6, 3, 1),
        (30, 7, 2, 1),
        (30, 7, 3, 1),
        (30, 7, 3, 9),
        (30, 7, 3, 2),
    ]
    for publisher, instrument, sequence, price in keys:
        events.append(msgspec_replace(p, publisher, instrument, sequence, price))
    events.append(msgspec_replace(p, 30, 7, 3, 1, ts_recv=T - 1))
    expected = canonical_sort(events)
    by_type: dict[type[Event], list[Event]] = {}
    for event in reversed(events):
        by_type.setdefault(type(event), []).append(event)
    tables = [(t, events_to_table(group)) for t, group in by_type.items()]
    which, rows = canonical_order(tables)
    got = [
        events_of(tables[w][0], tables[w][1].slice(r, 1))[0]
        for w, r in zip(which, rows, strict=True)
    ]
    assert got == expected
    prints = canonical_table(OptionPrint, [tables[i][1] for i in range(len(tables))
                                           if tables[i][0] is OptionPrint])  # fmt: skip
    assert events_of(OptionPrint, prints) == [e for e in expected if type(e) is OptionPrint]


def msgspec_replace(p: OptionPrint, publisher: int, instrument: int, sequence: int, price: int,
                    ts_recv: int = T) -> OptionPrint:  # fmt: skip
    return msgspec.structs.replace(p, publisher_id=publisher, instrument_id=instrument,
                                   sequence=sequence, price=price, ts_recv=ts_recv)  # fmt: skip


def events_to_table(events: list[Event]) -> pa.Table:
    table = events_to_arrow(events, run_id="r", log_seqs=[0] * len(events))
    return table.drop_columns(["run_id", "log_seq"])


@pytest.mark.parametrize("seed", range(5))
def test_the_receive_time_first_sort_is_a_lexsort(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 5_000
    keys = [np.sort(rng.integers(0, 300, n)), *(rng.integers(0, 4, n) for _ in range(4))]
    keys[0][n // 2 :] = rng.integers(0, 300, n - n // 2)  # a second run, unsorted
    np.testing.assert_array_equal(_lexsorted(keys), np.lexsort(keys[::-1]))
