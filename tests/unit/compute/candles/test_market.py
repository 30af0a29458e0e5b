"""The market the daemon keeps: L2 books from the book engine, the trades MBO carries in the
candles, against a synthetic session with a known book and tape."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from compute.candles import BufferConfig, Market, aggressor_of
from synth.book import generate_book_session

SESSION = generate_book_session(seed=4, events=400)
CONFIG = BufferConfig(retention={"1m": 10_000, "1h": 100}, trades_kept=10_000)


def test_the_book_after_every_event_is_the_true_book_best_first() -> None:
    market = Market(CONFIG)
    for event, (true_bids, true_asks) in zip(SESSION.mbo, SESSION.books, strict=True):
        market.apply([event])
        book = market.book(SESSION.venue, SESSION.symbol, 1_000)
        assert book is not None
        assert [(lv.price, lv.size, lv.orders) for lv in book.bids] == list(true_bids)
        assert [(lv.price, lv.size, lv.orders) for lv in book.asks] == list(true_asks)


def test_the_trades_of_the_mbo_feed_are_the_tape_and_fill_the_candles() -> None:
    market = Market(CONFIG)
    market.apply(SESSION.mbo)
    trades = market.buffers.trades(SESSION.venue, SESSION.symbol, 10_000) or []
    assert SESSION.trades and len(trades) == len(SESSION.trades)
    for trade, truth in zip(trades, SESSION.trades, strict=True):
        assert (trade.ts_recv, trade.price, trade.size, trade.aggressor) == (
            truth.ts_recv, truth.price, truth.size, aggressor_of(truth.side),
        )  # fmt: skip
    hourly = market.buffers.candles(SESSION.venue, SESSION.symbol, "1h", 100) or []
    assert sum(c.volume for c in hourly) == sum(t.size for t in SESSION.trades)
    assert sum(c.trades for c in hourly) == len(SESSION.trades)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.integers(0, len(SESSION.mbo)), max_size=12))
def test_any_split_of_the_session_gives_the_same_market(cuts: list[int]) -> None:
    whole = Market(CONFIG)
    whole.apply(SESSION.mbo)
    split = Market(CONFIG)
    bounds = [0, *sorted(cuts), len(SESSION.mbo)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        split.apply(SESSION.mbo[lo:hi])
    key = (SESSION.venue, SESSION.symbol)
    assert split.book(*key, 50) == whole.book(*key, 50)
    assert split.buffers.candles(*key, "1m", 10_000) == whole.buffers.candles(*key, "1m", 10_000)
    assert split.buffers.trades(*key, 10_000) == whole.buffers.trades(*key, 10_000)
