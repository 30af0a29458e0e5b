"""The Alpaca stock source against a loopback server speaking Alpaca's stream protocol."""

import asyncio
import calendar
import json
import logging
from collections.abc import AsyncIterator

import pytest
from msgspec.structs import replace

from ingest.alpaca.stock_config import AlpacaStocksConfig
from ingest.alpaca.stocks import AlpacaStockDryRun, AlpacaStockSource, build_stock_source
from ingest.marketdata.symbology import UnknownSymbol, instrument_id
from schemas.crypto import ProviderGap, ProviderHeartbeat
from schemas.events import EquityPrint, EquityQuote, Event, Quarantined
from tests.kit.alpaca_stock_server import AlpacaStockServer

KEY, SECRET = "PKTESTKEY", "s3cr3t-never-logged"
AAPL_TRADE = {"T": "t", "S": "AAPL", "i": 96921, "x": "D", "p": 126.55, "s": 1,
              "t": "2021-02-22T15:51:44.208Z", "c": ["@", "I"], "z": "C"}  # fmt: skip
MSFT_QUOTE = {"T": "q", "S": "MSFT", "bx": "U", "bp": 234.5, "bs": 1, "ax": "Q", "ap": 234.52,
              "as": 4, "t": "2021-02-22T15:51:45.335689322Z", "c": ["R"], "z": "C"}  # fmt: skip
MSFT_TRADE = {"T": "t", "S": "MSFT", "i": 52983525029461, "x": "V", "p": 234.51, "s": 100,
              "t": "2021-02-22T15:51:46Z", "c": ["@"], "z": "C"}  # fmt: skip
GARBAGE = {
    "malformed_json": "not json {",
    "unknown_message": json.dumps(AAPL_TRADE),  # an object, not Alpaca's array
    "unknown_symbol": json.dumps([{**AAPL_TRADE, "S": "TSLA"}]),
    "malformed_message": json.dumps([{**AAPL_TRADE, "p": "abc"}]),
    "crossed_quote": json.dumps([{**MSFT_QUOTE, "bp": 234.6}]),
    "unsupported_message": json.dumps([{"T": "b", "S": "AAPL", "o": 1.0}]),
    "venue_error": json.dumps([{"T": "error", "code": 406, "msg": "connection limit exceeded"}]),
}
SECOND = 1_000_000_000
FEB_22_15_51 = calendar.timegm((2021, 2, 22, 15, 51, 0)) * SECOND


def config(url: str, secret: str = SECRET, **overrides: float) -> AlpacaStocksConfig:
    return AlpacaStocksConfig(
        symbols=["AAPL", "MSFT"], ws_url=url, api_key=KEY, secret_key=secret,
        backoff_base_s=0.05, backoff_max_s=0.1, **overrides,  # type: ignore[arg-type]
    )  # fmt: skip


async def take(events: AsyncIterator[Event], count: int) -> list[Event]:
    out: list[Event] = []
    async with asyncio.timeout(10):
        async for event in events:
            out.append(event)
            if len(out) == count:
                break
    return out


async def test_trades_and_quotes_are_normalised_and_garbage_quarantined_with_reasons(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    frames = [json.dumps([AAPL_TRADE, MSFT_QUOTE]), *GARBAGE.values(), json.dumps([MSFT_TRADE])]
    server = AlpacaStockServer(KEY, SECRET, frames)
    source = AlpacaStockSource(config(await server.start()))
    try:
        events = await take(source.events(), 3 + len(GARBAGE))
    finally:
        await source.close()
        await server.stop()

    assert server.requests == [
        {"action": "auth", "key": KEY, "secret": SECRET},
        {"action": "subscribe", "trades": ["AAPL", "MSFT"], "quotes": ["AAPL", "MSFT"]},
    ]
    aapl, quote, *bad, msft = events
    assert isinstance(aapl, EquityPrint) and isinstance(msft, EquityPrint)
    assert (aapl.symbol, aapl.price, aapl.size, aapl.sequence) == (
        "AAPL",
        126_550_000_000,
        1,
        96921,
    )
    assert aapl.ts_event == FEB_22_15_51 + 44 * SECOND + 208_000_000
    assert aapl.off_exchange and aapl.venue == "D" and not msft.off_exchange
    assert aapl.instrument_id == instrument_id("AAPL") != msft.instrument_id
    assert (msft.price, msft.size, msft.sequence) == (234_510_000_000, 100, 52983525029461)
    assert isinstance(quote, EquityQuote)
    assert (quote.bid_px, quote.bid_sz, quote.ask_px, quote.ask_sz) == (
        234_500_000_000, 1, 234_520_000_000, 4,
    )  # fmt: skip
    assert quote.ts_event == FEB_22_15_51 + 45 * SECOND + 335_689_322
    assert all(isinstance(e, Quarantined) for e in bad)
    assert [e.reason for e in bad if isinstance(e, Quarantined)] == list(GARBAGE)
    error = bad[-1]
    assert isinstance(error, Quarantined) and error.detail == "406 connection limit exceeded"
    assert source.normaliser.counters["EquityPrint"] == 2
    assert source.table.refused[("alpaca-iex", "TSLA")] == 1
    ours = [r.getMessage() for r in caplog.records if not r.name.startswith("websockets.server")]
    assert not any(SECRET in line for line in ours)  # the venue's side may log it
    assert SECRET not in repr(source.config)


async def test_a_closed_connection_reconnects_with_a_gap_and_authenticates_again() -> None:
    server = AlpacaStockServer(KEY, SECRET, [json.dumps([MSFT_TRADE])], close_after_play=True)
    source = AlpacaStockSource(config(await server.start()))
    try:
        first, gap, again = await take(source.events(), 3)
    finally:
        await source.close()
        await server.stop()
    assert isinstance(first, EquityPrint) and isinstance(again, EquityPrint)
    assert replace(again, ts_recv=first.ts_recv) == first and again.ts_recv > gap.ts_recv
    assert isinstance(gap, ProviderGap) and gap.reason == "reconnect"
    assert gap.source == "alpaca-stocks-iex" and gap.venue == "alpaca-iex"
    assert [r["action"] for r in server.requests] == ["auth", "subscribe"] * 2


async def test_a_wrong_key_pair_is_the_venue_s_error_quarantined() -> None:
    server = AlpacaStockServer(KEY, SECRET, [json.dumps([MSFT_TRADE])])
    source = AlpacaStockSource(config(await server.start(), secret=KEY))
    try:
        (refused,) = await take(source.events(), 1)
    finally:
        await source.close()
        await server.stop()
    assert isinstance(refused, Quarantined)
    assert (refused.reason, refused.detail) == ("venue_error", "402 auth failed")


async def test_without_keys_a_dry_run_says_so_once_and_emits_heartbeats_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    source = build_stock_source(AlpacaStocksConfig(symbols=["AAPL"], silence_s=0.05))
    assert isinstance(source, AlpacaStockDryRun)
    with caplog.at_level(logging.INFO):
        await source.connect()
        beats = await take(source.events(), 3)
        await source.close()
    assert all(isinstance(b, ProviderHeartbeat) and b.synthetic for b in beats)
    silences = [b.silence_ns for b in beats if isinstance(b, ProviderHeartbeat)]
    assert silences == sorted(silences) and silences[0] >= 50_000_000
    lines = [r.getMessage() for r in caplog.records]
    assert lines == [
        "alpaca-stocks-iex: no ALPACA_API_KEY/ALPACA_SECRET_KEY, dry run: heartbeats only"
    ]


def test_an_unlisted_or_malformed_ticker_refuses_to_start() -> None:
    with pytest.raises(UnknownSymbol, match="'BTC/USD' is not a stock ticker"):
        build_stock_source(AlpacaStocksConfig(symbols=["AAPL", "BTC/USD"]))
