"""Alpaca options: recorded msgpack frames through alpaca-py's own dispatch, and selection."""

from __future__ import annotations

import datetime as dt
import itertools

import msgpack
from alpaca.data.enums import OptionsFeed
from alpaca.data.live.option import OptionDataStream

from ingest.alpaca import (
    ALPACA_PUBLISHER_ID,
    AlpacaNormaliser,
    AlpacaOptionsConfig,
    AlpacaOptionSource,
    ContractRef,
    select_contracts,
)
from ingest.alpaca.parsing import is_monthly, occ_from_alpaca, timestamp_ns
from ingest.source import Source
from schemas.events import OptionPrint, OptionQuote, Quarantined
from schemas.occ import format_occ

T = 1_740_061_800_817_866_523  # 2025-02-20T14:30:00.817866523Z


def ts(offset_ns: int = 0) -> msgpack.Timestamp:
    return msgpack.Timestamp.from_unix_nano(T + offset_ns)


def frame(*messages: dict) -> bytes:
    """One websocket frame as Alpaca's option stream sends it (msgpack list)."""
    return msgpack.packb(list(messages), datetime=False)


RECORDED = [
    frame({"T": "success", "msg": "connected"}),
    frame(
        {"T": "subscription", "trades": ["AAPL250221C00250000"], "quotes": ["AAPL250221C00250000"]}
    ),
    frame(
        {
            "T": "q",
            "S": "AAPL250221C00250000",
            "t": ts(-5_000),
            "bx": "C",
            "bp": 0.23,
            "bs": 10,
            "ax": "X",
            "ap": 0.25,
            "as": 12,
            "c": "A",
        },
        {"T": "t", "S": "AAPL250221C00250000", "t": ts(), "p": 0.24, "s": 3, "x": "C", "c": "I"},
    ),
    frame(
        {
            "T": "t",
            "S": "AAPL250221C00250000",
            "t": ts(1_000),
            "p": 0.25,
            "s": 0,
            "x": "X",
            "c": "I",
        },  # zero size
        {
            "T": "q",
            "S": "AAPL250221C00250000",
            "t": ts(2_000),
            "bx": "C",
            "bp": 0.30,
            "bs": 1,
            "ax": "X",
            "ap": 0.25,
            "as": 1,
            "c": "A",
        },  # crossed
        {"T": "t", "S": "NOTANOPTION", "t": ts(3_000), "p": 1.0, "s": 1, "x": "C", "c": "I"},
        {"T": "error", "code": 405, "msg": "symbol limit exceeded"},
    ),
]


def clock_from(start: int):
    counter = itertools.count(start, 1_000)
    return lambda: next(counter)


async def replay_through_alpaca_py(frames: list[bytes], source: AlpacaOptionSource) -> list:
    """What alpaca-py's `_consume` does with each frame: unpack, then `_dispatch`."""
    stream = OptionDataStream("key", "secret", raw_data=True, feed=OptionsFeed.OPRA)
    stream.subscribe_trades(source.on_message, "AAPL250221C00250000", "NOTANOPTION")
    stream.subscribe_quotes(source.on_message, "AAPL250221C00250000")
    for raw in frames:
        for message in msgpack.unpackb(raw):
            await stream._dispatch(message)
    source.end_of_stream()
    return [event async for event in source.events()]


async def test_recorded_frames_become_option_quotes_prints_and_quarantines():
    config = AlpacaOptionsConfig(underlyings=["AAPL"])
    source = AlpacaOptionSource(config, clock=clock_from(T + 10**6))
    assert isinstance(source, Source)
    events = await replay_through_alpaca_py(RECORDED, source)
    quote, print_ = events[0], events[1]
    assert isinstance(quote, OptionQuote)
    assert (quote.symbol, quote.underlying) == ("AAPL  250221C00250000", "AAPL")
    assert (quote.bid_px, quote.ask_px, quote.bid_sz, quote.ask_sz) == (
        230_000_000,
        250_000_000,
        10,
        12,
    )
    assert quote.ts_event == T - 5_000 and quote.publisher_id == ALPACA_PUBLISHER_ID
    assert isinstance(print_, OptionPrint)
    assert (print_.price, print_.size, print_.ts_event) == (240_000_000, 3, T)
    assert (print_.source, print_.publisher_id, print_.coarse) == ("alpaca", 0, False)
    assert print_.ts_recv > quote.ts_recv and print_.sequence > quote.sequence
    # Control frames are consumed by alpaca-py itself or counted, never events.
    reasons = [e.reason for e in events[2:]]
    assert reasons == ["nonpositive_size", "crossed_quote", "malformed_message"]
    assert all(isinstance(e, Quarantined) and e.payload for e in events[2:])


async def test_indicative_feed_prints_are_coarse():
    source = AlpacaOptionSource(
        AlpacaOptionsConfig(underlyings=["AAPL"], feed="indicative"), clock=clock_from(T)
    )
    events = await replay_through_alpaca_py(RECORDED[2:3], source)
    assert [e.coarse for e in events if isinstance(e, OptionPrint)] == [True]


def test_normaliser_quarantines_errors_and_unknown_messages_and_never_raises():
    normaliser = AlpacaNormaliser(clock=clock_from(T))
    assert normaliser({"T": "error", "code": 402, "msg": "auth failed"})[0].reason == (
        "gateway_error"
    )
    assert normaliser({"T": "b", "S": "AAPL"})[0].reason == "unknown_message"
    assert normaliser(["not", "a", "dict"])[0].reason == "malformed_message"
    bad_price = {"T": "t", "S": "AAPL250221C00250000", "t": ts(), "p": "x", "s": 1}
    assert normaliser(bad_price)[0].reason == "malformed_message"
    no_time = {"T": "t", "S": "AAPL250221C00250000", "p": 1.0, "s": 1}
    assert normaliser(no_time)[0].reason == "malformed_message"


def test_receive_times_never_run_backwards():
    times = iter([T + 50, T + 10, T + 60])
    normaliser = AlpacaNormaliser(clock=lambda: next(times))
    msg = {"T": "t", "S": "AAPL250221C00250000", "t": ts(), "p": 0.5, "s": 1}
    got = [normaliser(msg)[0].ts_recv for _ in range(3)]
    assert got == [T + 50, T + 50, T + 60]


def test_timestamps_in_every_form_alpaca_uses_agree():
    text = "2025-02-20T14:30:00.817866523Z"
    as_datetime = dt.datetime(2025, 2, 20, 14, 30, 0, 817866, tzinfo=dt.UTC)
    assert timestamp_ns(ts()) == timestamp_ns(text) == T
    assert timestamp_ns(as_datetime) == T - 523
    assert occ_from_alpaca("SPY250321P00500000") == "SPY   250321P00500000"


# -------------------------------------------------------------------- selection


TODAY = dt.date(2025, 2, 20)  # a Thursday
SPOT = 245 * 10**9


def chain(underlying: str, expiries: list[dt.date], strikes: range) -> list[ContractRef]:
    return [
        ContractRef.from_occ(
            format_occ(underlying, e.year * 10_000 + e.month * 100 + e.day, right, k * 10**9)
        )
        for e in expiries
        for k in strikes
        for right in ("C", "P")
    ]


def test_monthly_expiry_is_the_third_friday():
    assert is_monthly(dt.date(2025, 3, 21)) and is_monthly(dt.date(2025, 2, 21))
    assert not is_monthly(dt.date(2025, 2, 28)) and not is_monthly(dt.date(2025, 3, 14))
    assert is_monthly(dt.date(2025, 4, 17))  # Good Friday 2025: Thursday expiry


def test_selection_takes_nearest_weekly_and_monthly_within_30_dte_and_8_strikes_a_side():
    expiries = [
        dt.date(2025, 2, 21),  # monthly, 1 DTE
        dt.date(2025, 2, 28),  # weekly, 8 DTE
        dt.date(2025, 3, 7),  # weekly, later
        dt.date(2025, 3, 21),  # monthly, 29 DTE (not the nearest monthly)
        dt.date(2025, 4, 17),  # beyond 30 DTE
    ]
    contracts = chain("AAPL", expiries, range(200, 300, 1))  # $1 strikes
    config = AlpacaOptionsConfig(underlyings=["AAPL"])
    picked = select_contracts({"AAPL": (SPOT, contracts)}, TODAY, config)
    assert {c.expiration for c in picked} == {dt.date(2025, 2, 21), dt.date(2025, 2, 28)}
    for expiry in (dt.date(2025, 2, 21), dt.date(2025, 2, 28)):
        strikes = sorted({c.strike_price // 10**9 for c in picked if c.expiration == expiry})
        assert strikes == list(range(237, 253))  # 8 below 245, 8 at or above
    assert len(picked) == 2 * 16 * 2
    assert abs(picked[0].strike_price - SPOT) == 0  # nearest to spot first


def test_selection_widens_to_ten_percent_when_six_percent_holds_too_few_strikes():
    contracts = chain("AAPL", [dt.date(2025, 2, 28)], range(200, 300, 5))  # $5 strikes
    config = AlpacaOptionsConfig(underlyings=["AAPL"])
    picked = select_contracts({"AAPL": (SPOT, contracts)}, TODAY, config)
    strikes = sorted({c.strike_price // 10**9 for c in picked})
    # ±6 % of 245 is 230.3..259.7 (3 strikes below); ±10 % is 220.5..269.5.
    assert strikes == [225, 230, 235, 240, 245, 250, 255, 260, 265]


def test_selection_is_capped_at_200_contracts_shared_across_underlyings():
    expiries = [dt.date(2025, 2, 21), dt.date(2025, 2, 28)]
    universe = {
        name: (SPOT, chain(name, expiries, range(200, 300, 1)))
        for name in ("AAPL", "MSFT", "NVDA", "TSLA")
    }
    picked = select_contracts(universe, TODAY, AlpacaOptionsConfig(underlyings=list(universe)))
    assert len(picked) == 200
    per_underlying = {u: sum(c.underlying == u for c in picked) for u in universe}
    assert set(per_underlying.values()) == {50}


async def test_source_subscribes_the_selected_contracts_on_alpaca_pys_stream():
    expiries = [dt.date(2025, 2, 21), dt.date(2025, 2, 28)]

    def universe(config: AlpacaOptionsConfig, today: dt.date):
        return {"AAPL": (SPOT, chain("AAPL", expiries, range(200, 300, 1)))}

    source = AlpacaOptionSource(AlpacaOptionsConfig(underlyings=["AAPL"]), universe_loader=universe)
    stream = OptionDataStream("key", "secret", raw_data=True, feed=OptionsFeed.OPRA)
    symbols = source.subscribe(stream, TODAY)
    assert len(symbols) == 64 and "AAPL250221C00245000" in symbols
    assert set(stream._handlers["trades"]) == set(symbols) == set(stream._handlers["quotes"])
