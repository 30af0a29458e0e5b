"""IBKR: raw TWS message fields through ib_insync's own Decoder into our tick wrapper."""

from __future__ import annotations

import itertools
import logging

from ib_insync.decoder import Decoder

from ingest.ibkr import COARSE_WARNING, IbkrContract, IbkrOptionsConfig, IbkrOptionSource
from ingest.source import Source
from schemas.events import OptionPrint, OptionQuote, Quarantined

T = 1_740_061_800_000_000_000
CALL = "AAPL  250221C00250000"
SERVER_VERSION = 176


def tick_price(req_id, tick_type, price, size):
    return ["1", "6", str(req_id), str(tick_type), str(price), str(size), "0"]


def tick_size(req_id, tick_type, size):
    return ["2", "6", str(req_id), str(tick_type), str(size)]


def tick_string(req_id, tick_type, value):
    return ["46", "6", str(req_id), str(tick_type), value]


def error(req_id, code, text):
    return ["4", "2", str(req_id), str(code), text, ""]


def make_source() -> IbkrOptionSource:
    source = IbkrOptionSource(IbkrOptionsConfig(contracts=[CALL]))
    clock = itertools.count(T, 1_000)
    source.wrapper._clock = lambda: next(clock)
    source.subscribe_recorded(7, IbkrContract(CALL, con_id=712_345))
    return source


async def feed(source: IbkrOptionSource, messages: list[list[str]]) -> list:
    decoder = Decoder(source.wrapper, SERVER_VERSION)
    for fields in messages:
        decoder.interpret(fields)
    source.end_of_stream()
    return [event async for event in source.events()]


async def test_top_of_book_updates_become_quotes():
    source = make_source()
    assert isinstance(source, Source)
    events = await feed(
        source,
        [tick_price(7, 1, 0.23, 10), tick_price(7, 2, 0.25, 12), tick_size(7, 0, 15)],
    )
    assert [type(e) for e in events] == [OptionQuote] * 3
    one_sided, both, resized = events
    assert (one_sided.bid_px, one_sided.ask_px) == (230_000_000, None)
    assert (both.bid_px, both.ask_px, both.bid_sz, both.ask_sz) == (
        230_000_000,
        250_000_000,
        10,
        12,
    )
    assert resized.bid_sz == 15
    assert (both.symbol, both.underlying, both.instrument_id, both.source) == (
        CALL,
        "AAPL",
        712_345,
        "ibkr",
    )


async def test_last_sale_updates_become_coarse_prints_without_counting_echoes():
    source = make_source()
    events = await feed(
        source,
        [
            tick_price(7, 4, 0.24, 3),  # last 0.24 x 3
            tick_size(7, 5, 3),  # TWS echoes the size: not a new sale
            tick_size(7, 5, 5),  # a new sale at the same price
        ],
    )
    assert [(e.price, e.size, e.coarse) for e in events] == [
        (240_000_000, 3, True),
        (240_000_000, 5, True),
    ]
    assert all(isinstance(e, OptionPrint) for e in events)
    assert source.wrapper.counters["last_size_echo"] == 1


async def test_rt_volume_reports_are_the_prints_when_they_flow():
    source = make_source()
    events = await feed(
        source,
        [
            tick_string(7, 48, "0.26;4;1740061801234;1200;0.25;true"),
            tick_price(7, 4, 0.26, 4),  # the same sale again as a last tick: not counted
            tick_string(7, 48, ";0;1740061801300;1200;0.25;false"),  # volume only
        ],
    )
    (print_,) = events
    assert (print_.price, print_.size, print_.ts_event, print_.coarse) == (
        260_000_000,
        4,
        1_740_061_801_234_000_000,
        True,
    )


async def test_bad_ticks_are_quarantined_and_the_stream_goes_on():
    source = make_source()
    events = await feed(
        source,
        [
            tick_price(9, 1, 0.23, 10),  # never subscribed
            tick_price(7, 1, 0.30, 1),
            tick_price(7, 2, 0.25, 1),  # crossed
            tick_size(7, 0, -4),  # negative size
            tick_string(7, 48, "abc;x;y"),
            error(7, 200, "No security definition has been found"),
            error(-1, 2104, "Market data farm connection is OK"),
            tick_price(7, 2, 0.35, 1),  # uncrossed again
        ],
    )
    reasons = [e.reason for e in events if isinstance(e, Quarantined)]
    assert reasons == [
        "unknown_request",
        "crossed_quote",
        "negative_size",
        "malformed_tick",
        "gateway_error",
    ]
    assert isinstance(events[1], OptionQuote)  # the one-sided bid before the crossing ask
    assert isinstance(events[-1], OptionQuote) and events[-1].ask_px == 350_000_000
    assert source.wrapper.counters["notices"] == 1


async def test_the_source_says_it_has_no_tick_by_tick_options_data(caplog):
    class NoTws:  # connecting fails before any network is touched
        async def connectAsync(self, *args, **kwargs):  # noqa: N802  (ib_insync's name)
            raise ConnectionRefusedError("no TWS here")

    source = IbkrOptionSource(IbkrOptionsConfig(contracts=[CALL]), ib=NoTws())
    with caplog.at_level(logging.WARNING, logger="ingest.ibkr.adapter"):
        try:
            await source.connect()
        except ConnectionRefusedError:
            pass
    assert COARSE_WARNING in caplog.text
    assert "tick-by-tick" in (IbkrOptionSource.__doc__ or "")
