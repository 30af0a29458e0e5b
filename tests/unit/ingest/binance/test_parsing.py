import json
from collections import Counter

import pytest

from ingest.binance.parsing import BinanceNormaliser
from ingest.marketdata.symbology import default_table
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade, MarkPrice
from schemas.events import PRICE_SCALE, Quarantined
from tests.kit.crypto_frames import frames, rest_snapshots

RECORDINGS = [
    ("binance-spot.jsonl", "binance-spot"),
    ("binance-spot-btc-eth-dot.jsonl", "binance-spot"),
    ("binance-futures.jsonl", "binance-usdm"),
]
CHANNEL_TYPES = {
    "aggTrade": "CryptoTrade",
    "bookTicker": "CryptoQuote",
    "depth@100ms": "BookUpdate",
}


def normaliser(venue: str) -> BinanceNormaliser:
    return BinanceNormaliser(venue, venue, default_table())


@pytest.mark.parametrize(("name", "venue"), RECORDINGS)
def test_every_recorded_frame_becomes_the_event_its_channel_names(name: str, venue: str) -> None:
    expected: Counter[str] = Counter()
    for frame in frames(name):
        channel = json.loads(frame.raw)["stream"].split("@", 1)[1]
        expected[CHANNEL_TYPES.get(channel, "Quarantined")] += 1
    parse = normaliser(venue)
    got: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    for frame in frames(name):
        events = parse.frame(frame.raw, frame.recv_ts_ns)
        assert len(events) == 1
        got[type(events[0]).__name__] += 1
        if isinstance(events[0], Quarantined):
            reasons[events[0].reason] += 1
    assert got == expected
    assert set(reasons) <= {"unsupported_channel"}  # the 1 m klines, which are not subscribed


def test_spot_recording_counts_match_its_source_notes() -> None:
    parse = normaliser("binance-spot")
    events = [parse.frame(f.raw, f.recv_ts_ns)[0] for f in frames("binance-spot.jsonl")]
    trades = [e for e in events if isinstance(e, CryptoTrade)]
    assert Counter(type(e).__name__ for e in events) == {
        "CryptoQuote": 5408, "BookUpdate": 4709, "CryptoTrade": 1240,
    }  # fmt: skip
    assert Counter(t.side for t in trades) == {"sell": 523, "buy": 717}  # m true = sold
    assert sum(t.trade_count > 1 for t in trades) == 105


def test_an_aggregate_trade_keeps_exact_price_size_and_times() -> None:
    raw = json.dumps({"stream": "btcusdt@aggTrade", "data": {
        "e": "aggTrade", "E": 1617565391500, "s": "BTCUSDT", "a": 700, "p": "57893.12000000",
        "q": "0.00123400", "f": 10, "l": 12, "T": 1617565391499, "m": False, "M": True,
    }})  # fmt: skip
    (trade,) = normaliser("binance-spot").frame(raw, 5)
    assert isinstance(trade, CryptoTrade)
    assert trade.price == 57_893_120_000_000
    assert trade.size == 123_400
    assert (trade.side, trade.trade_count, trade.sequence, trade.trade_id) == ("buy", 3, 700, "700")
    assert (trade.ts_event, trade.ts_recv) == (1617565391499 * 10**6, 5)
    assert (trade.symbol, trade.venue_symbol) == ("BTC-USDT", "BTCUSDT")


def test_a_raw_trade_is_one_fill_with_its_own_id() -> None:
    # Binance's documented `<symbol>@trade` format (no recording holds one).
    raw = json.dumps({"stream": "ethusdt@trade", "data": {
        "e": "trade", "E": 1672515782136, "s": "ETHUSDT", "t": 12345, "p": "0.001",
        "q": "100", "T": 1672515782136, "m": True, "M": True,
    }})  # fmt: skip
    (trade,) = normaliser("binance-spot").frame(raw, 1)
    assert isinstance(trade, CryptoTrade)
    assert (trade.trade_id, trade.sequence, trade.trade_count, trade.side) == (
        "12345",
        12345,
        1,
        "sell",
    )
    assert (trade.price, trade.size) == (1_000_000, 100 * 10**8)


def test_a_spot_book_ticker_without_exchange_time_is_dated_by_its_receipt() -> None:
    first = frames("binance-spot.jsonl")[0]
    (quote,) = normaliser("binance-spot").frame(first.raw, first.recv_ts_ns)
    assert isinstance(quote, CryptoQuote)
    assert quote.ts_event == quote.ts_recv == first.recv_ts_ns
    assert (quote.bid_px, quote.ask_px) == (214_370_000, 214_490_000)
    assert (quote.bid_sz, quote.ask_sz) == (2800 * 10**8, 11400 * 10**8)


def test_futures_depth_diffs_carry_the_previous_update_id() -> None:
    frame = next(f for f in frames("binance-futures.jsonl") if "depthUpdate" in f.raw)
    (diff,) = normaliser("binance-usdm").frame(frame.raw, frame.recv_ts_ns)
    data = json.loads(frame.raw)["data"]
    assert isinstance(diff, BookUpdate) and not diff.snapshot
    assert (diff.first_update_id, diff.sequence, diff.prev_update_id) == (
        data["U"], data["u"], data["pu"],
    )  # fmt: skip
    assert diff.symbol == "BAT-USDT-PERP"
    assert len(diff.bid_px) == len(data["b"]) and diff.bid_sz[4] == 0  # "0.0" removes


def test_a_mark_price_frame_carries_mark_index_and_funding() -> None:
    # Binance's documented markPriceUpdate format (no recording holds one).
    raw = json.dumps({"stream": "btcusdt@markPrice@1s", "data": {
        "e": "markPriceUpdate", "E": 1562305380000, "s": "BTCUSDT", "p": "11794.15000000",
        "i": "11784.62659091", "P": "11784.25641265", "r": "0.00038167", "T": 1562306400000,
    }})  # fmt: skip
    (mark,) = normaliser("binance-usdm").frame(raw, 1)
    assert isinstance(mark, MarkPrice)
    assert mark.mark_px == 11_794_150_000_000 and mark.index_px == 11_784_626_590_910
    assert mark.funding_rate == 381_670  # 0.00038167 at 1e-9
    assert mark.ts_next_funding == 1562306400000 * 10**6


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("not json", "malformed_json"),
        ("[1, 2]", "unknown_message"),
        ('{"stream": "x@aggTrade", "data": {"s": "NOPEUSDT"}}', "unknown_symbol"),
        ('{"stream": "btcusdt@aggTrade", "data": {"s": "BTCUSDT", "p": "1e5"}}',
         "malformed_message"),
        ('{"stream": "btcusdt@bookTicker", "data": {"s": "BTCUSDT", "u": 1, "b": "0.0000000001",'
         ' "B": "1", "a": "1", "A": "1"}}', "malformed_message"),
        ('{"code": -1, "msg": "bad request"}', "venue_error"),
    ],
)  # fmt: skip
def test_bad_frames_are_quarantined_with_their_reason(text: str, reason: str) -> None:
    parse = normaliser("binance-spot")
    (event,) = parse.frame(text, 9)
    assert isinstance(event, Quarantined)
    assert (event.reason, event.payload, event.ts_recv) == (reason, text.encode(), 9)
    assert parse.counters[f"quarantined:{reason}"] == 1


def test_an_unmapped_symbol_is_counted_by_the_table_never_guessed() -> None:
    table = default_table()
    parse = BinanceNormaliser("binance-spot", "binance-spot", table)
    raw = '{"stream": "btcusdc@aggTrade", "data": {"s": "BTCUSDC"}}'
    parse.frame(raw, 1)
    parse.frame(raw, 2)
    assert table.refused[("binance-spot", "BTCUSDC")] == 2


def test_a_subscription_reply_is_counted_not_quarantined() -> None:
    parse = normaliser("binance-spot")
    assert parse.frame('{"result": null, "id": 1}', 1) == []
    assert parse.counters["control:subscribed"] == 1


@pytest.mark.parametrize(
    "name", ["binance-spot.rest-depth.jsonl", "binance-futures.rest-depth.jsonl"]
)
def test_rest_snapshots_become_book_snapshots_with_every_level(name: str) -> None:
    venue = "binance-usdm" if "futures" in name else "binance-spot"
    parse = normaliser(venue)
    for symbol, body in rest_snapshots(name).items():
        snapshot = parse.snapshot(body, symbol, 1)
        data = json.loads(body)
        assert isinstance(snapshot, BookUpdate) and snapshot.snapshot
        assert snapshot.sequence == data["lastUpdateId"]
        assert len(snapshot.bid_px) == len(data["bids"])
        assert len(snapshot.ask_sz) == len(data["asks"])
        assert snapshot.bid_px[0] > snapshot.bid_px[-1]
        assert snapshot.ask_px[0] < snapshot.ask_px[-1]
        assert snapshot.bid_px[0] < snapshot.ask_px[0] < 10**6 * PRICE_SCALE
