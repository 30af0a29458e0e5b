import json
from collections import Counter

import pytest

from ingest.bybit.book_sync import BybitBookSync
from ingest.bybit.parsing import BybitNormaliser
from ingest.marketdata.symbology import default_table
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade, MarkPrice, ProviderGap
from schemas.events import Quarantined
from tests.kit.crypto import book_update
from tests.kit.crypto_frames import frames

FIXTURE = "bybit-v5-linear.jsonl"


def normaliser() -> BybitNormaliser:
    return BybitNormaliser("bybit-linear", "bybit-linear", default_table())


def expected_counts() -> Counter[str]:
    """Counted from the file alone: trades per trade frame, one quote per level-1 frame, one
    book update per depth frame, a mark price per ticker frame whose merged mark, index or
    funding changed."""
    counts: Counter[str] = Counter()
    tickers: dict[str, dict[str, str]] = {}
    fields = ("markPrice", "indexPrice", "fundingRate", "nextFundingTime")
    for frame in frames(FIXTURE):
        message = json.loads(frame.raw)
        topic = message.get("topic", "")
        if topic.startswith("publicTrade."):
            counts["CryptoTrade"] += len(message["data"])
        elif topic.startswith("orderbook.1."):
            counts["CryptoQuote"] += 1
        elif topic.startswith("orderbook."):
            counts["BookUpdate"] += 1
        elif topic.startswith("tickers."):
            symbol = message["data"]["symbol"]
            before = tickers.get(symbol, {})
            after = before | message["data"]
            tickers[symbol] = after
            counts["MarkPrice"] += any(before.get(f) != after.get(f) for f in fields)
    return counts


def test_every_fixture_frame_becomes_the_events_its_topic_names() -> None:
    parse = normaliser()
    got: Counter[str] = Counter()
    for frame in frames(FIXTURE):
        got.update(type(e).__name__ for e in parse.frame(frame.raw, frame.recv_ts_ns))
    assert got == expected_counts()
    assert got["MarkPrice"] == 2 + 2 * 14 + 2 * 2  # snapshots, mark changes, funding-only
    assert parse.counters["control:subscribe"] == 1 and parse.counters["control:ping"] == 1


def test_a_trade_frame_holds_several_trades_with_taker_side_and_uuid_ids() -> None:
    frame = next(f for f in frames(FIXTURE) if "publicTrade" in f.raw and '"i"' in f.raw)
    data = json.loads(frame.raw)["data"]
    trades = normaliser().frame(frame.raw, frame.recv_ts_ns)
    assert len(trades) == len(data) >= 1
    first = trades[0]
    assert isinstance(first, CryptoTrade)
    assert first.trade_id == data[0]["i"] and first.sequence == data[0]["seq"]
    assert first.side == data[0]["S"].lower()
    assert first.ts_event == data[0]["T"] * 10**6
    assert first.symbol == "BTC-USDT-PERP" and first.venue == "bybit-linear"


def test_ticker_deltas_merge_before_the_mark_price_is_read() -> None:
    parse = normaliser()
    marks = [
        e
        for f in frames(FIXTURE)
        for e in parse.frame(f.raw, f.recv_ts_ns)
        if isinstance(e, MarkPrice) and e.venue_symbol == "BTCUSDT"
    ]
    first = marks[0]  # the snapshot: markPrice "43000.0012", fundingRate "0.000100"
    assert (first.mark_px, first.index_px) == (43_000_001_200_000, 42_999_997_700_000)
    assert first.funding_rate == 100_000
    assert first.ts_next_funding == (1_700_000_000_000 + 3_600_000) * 10**6
    # a delta that changes only the funding rate keeps the mark of the state it merges into
    funding_changes = [
        i for i in range(1, len(marks)) if marks[i].funding_rate != marks[i - 1].funding_rate
    ]
    assert len(funding_changes) == 3
    for i in funding_changes[1:]:
        assert marks[i].mark_px == marks[i - 1].mark_px
        assert marks[i].funding_rate == marks[i - 1].funding_rate + 5_000


def test_a_level_one_book_is_a_quote() -> None:
    frame = next(f for f in frames(FIXTURE) if "orderbook.1.ETHUSDT" in f.raw)
    (quote,) = normaliser().frame(frame.raw, frame.recv_ts_ns)
    data = json.loads(frame.raw)["data"]
    assert isinstance(quote, CryptoQuote)
    assert quote.sequence == data["u"]
    assert quote.bid_px == int(data["b"][0][0].replace(".", "")) * 10**7


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("{", "malformed_json"),
        ('{"success": false, "ret_msg": "error:handler not found", "op": "subscribe"}',
         "venue_error"),
        ('{"topic": "publicTrade.XYZUSDT", "type": "snapshot", "ts": 1, "data": []}',
         "unknown_symbol"),
        ('{"topic": "kline.1.BTCUSDT", "type": "snapshot", "ts": 1, "data": []}',
         "unsupported_channel"),
        ('{"topic": "orderbook.1.BTCUSDT", "type": "snapshot", "ts": 1, "data": {"s": "BTCUSDT",'
         ' "b": [], "a": [["1", "1"]], "u": 5, "seq": 1}}', "malformed_message"),
        ('{"topic": "tickers.BTCUSDT", "type": "delta", "ts": 1, "data": {"symbol": "BTCUSDT"}}',
         "malformed_message"),
        ('{"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1, "data": [{"T": 1, "S": '
         '"Long", "v": "1", "p": "1", "i": "x", "seq": 1}]}', "malformed_message"),
        ('{"topic": "publicTrade.BTCUSDT", "type": "snapshot", "ts": 1, "data": [{"T": 1, "S": '
         '["Buy"], "v": "1", "p": "1", "i": "x", "seq": 1}]}', "malformed_message"),
    ],
)  # fmt: skip
def test_bad_frames_are_quarantined_with_their_reason(text: str, reason: str) -> None:
    (event,) = normaliser().frame(text, 3)
    assert isinstance(event, Quarantined)
    assert (event.reason, event.payload) == (reason, text.encode())


def _book(u: int, snapshot: bool = False) -> BookUpdate:
    return book_update(snapshot=snapshot, sequence=u, first_update_id=u)


def test_a_skipped_delta_is_a_gap_then_deltas_wait_for_a_snapshot() -> None:
    sync = BybitBookSync()
    assert sync.on_book(_book(5)) == []  # a delta before any snapshot
    assert sync.on_book(_book(10, snapshot=True)) == [_book(10, snapshot=True)]
    assert sync.on_book(_book(11)) == [_book(11)]
    assert sync.on_book(_book(11)) == [] and sync.repeats == 1
    (gap,) = sync.on_book(_book(14))
    assert isinstance(gap, ProviderGap)
    assert (gap.reason, gap.first_missed, gap.last_missed) == ("sequence_gap", 12, 13)
    assert sync.needs_resubscribe
    assert sync.on_book(_book(15)) == []
    assert sync.on_book(_book(20, snapshot=True)) == [_book(20, snapshot=True)]
    assert sync.on_book(_book(21)) == [_book(21)]
    assert sync.held_back == 3


def test_a_snapshot_after_a_reconnect_reports_the_ids_it_jumped() -> None:
    sync = BybitBookSync()
    sync.on_book(_book(10, snapshot=True))
    sync.reconnected()
    gap, snapshot = sync.on_book(_book(30, snapshot=True))
    assert isinstance(gap, ProviderGap) and snapshot == _book(30, snapshot=True)
    assert (gap.reason, gap.first_missed, gap.last_missed) == ("reconnect", 11, 29)
    assert sync.on_book(_book(1, snapshot=True)) == [_book(1, snapshot=True)]  # u reset
