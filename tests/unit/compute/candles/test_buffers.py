"""Candles and trade rings: hand-computed cases, a naive reference, batch invariance."""

from __future__ import annotations

from itertools import groupby

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from compute.candles import BufferConfig, MarketBuffers, interval_ns, step, trade_of
from schemas.errors import ConfigError
from schemas.ipc import Candle, Trade
from tests.kit.crypto import crypto_trade
from tests.kit.events import equity_print

MIN = 60_000_000_000


def trade(ts: int, price: int, size: int = 1, symbol: str = "AAPL", seq: int = 0) -> Trade:
    return Trade("venue", symbol, ts, ts, price, size, "buy", seq)


def test_trades_fill_minute_and_quarter_hour_candles_by_hand() -> None:
    buffers = MarketBuffers(BufferConfig(retention={"1m": 10, "15m": 10}))
    trades = [trade(0, 10, 1), trade(30 * 10**9, 12, 2), trade(59 * 10**9, 9, 3),
              trade(MIN, 11, 4), trade(16 * MIN + 1, 13, 5)]  # fmt: skip
    _, closed = step(buffers, trades)
    assert [(c.interval, c.candle) for c in closed] == [
        ("1m", Candle(0, 10, 12, 9, 9, 6, 3)),
        ("1m", Candle(MIN, 11, 11, 11, 11, 4, 1)),
        ("15m", Candle(0, 10, 12, 9, 11, 10, 4)),
    ]
    assert buffers.candles("venue", "AAPL", "15m", 5) == [
        Candle(0, 10, 12, 9, 11, 10, 4),
        Candle(15 * MIN, 13, 13, 13, 13, 5, 1),
    ]
    assert buffers.candles("venue", "AAPL", "1m", 2) == [
        Candle(MIN, 11, 11, 11, 11, 4, 1),
        Candle(16 * MIN, 13, 13, 13, 13, 5, 1),
    ]


def test_retention_keeps_the_last_candles_including_the_open_one() -> None:
    buffers = MarketBuffers(BufferConfig(retention={"1m": 3}, trades_kept=2))
    step(buffers, [trade(i * MIN, 100 + i) for i in range(6)])
    assert [c.open for c in buffers.candles("venue", "AAPL", "1m", 10) or []] == [103, 104, 105]
    assert [t.price for t in buffers.trades("venue", "AAPL", 10) or []] == [104, 105]
    assert buffers.candles("venue", "MSFT", "1m", 10) is None
    assert buffers.candles("venue", "AAPL", "4h", 10) is None


def test_a_late_trade_is_counted_and_kept_in_the_ring_but_changes_no_candle() -> None:
    buffers = MarketBuffers(BufferConfig(retention={"1m": 5}))
    step(buffers, [trade(0, 10), trade(MIN, 20), trade(MIN - 1, 99)])
    assert buffers.late_trades == 1
    assert buffers.candles("venue", "AAPL", "1m", 5) == [
        Candle(0, 10, 10, 10, 10, 1, 1),
        Candle(MIN, 20, 20, 20, 20, 1, 1),
    ]
    assert [t.price for t in buffers.trades("venue", "AAPL", 5) or []] == [10, 20, 99]


def test_seeded_candles_continue_with_live_trades_in_the_open_bucket() -> None:
    buffers = MarketBuffers(BufferConfig(retention={"1m": 5}))
    buffers.seed_candles("venue", "AAPL", "1m", [Candle(0, 1, 2, 1, 2, 5, 2),
                                                  Candle(MIN, 3, 3, 3, 3, 1, 1)])  # fmt: skip
    step(buffers, [trade(MIN + 5, 7, 2)])
    assert buffers.candles("venue", "AAPL", "1m", 5) == [
        Candle(0, 1, 2, 1, 2, 5, 2),
        Candle(MIN, 3, 7, 3, 7, 3, 2),
    ]


def test_equity_prints_are_trades_with_the_aggressor_side_of_databento() -> None:
    assert trade_of(equity_print(side="B")).aggressor == "buy"  # type: ignore[union-attr]
    assert trade_of(equity_print(side="A")).aggressor == "sell"  # type: ignore[union-attr]
    assert trade_of(equity_print(side="N")).aggressor == "unknown"  # type: ignore[union-attr]


@pytest.mark.parametrize("bad", ["", "m", "0m", "5x", "1.5h", "-1m"])
def test_an_interval_that_is_not_a_count_and_unit_is_a_config_error(bad: str) -> None:
    with pytest.raises(ConfigError, match="interval"):
        interval_ns(bad)


def reference(trades: list[Trade], length: int) -> list[Candle]:
    """Candles by grouping the trades of each bucket (trades must be in time order)."""
    out = []
    for start, group in groupby(trades, key=lambda t: t.ts_recv - t.ts_recv % length):
        rows = list(group)
        prices = [t.price for t in rows]
        out.append(Candle(start, prices[0], max(prices), min(prices), prices[-1],
                          sum(t.size for t in rows), len(rows)))  # fmt: skip
    return out


sessions = st.lists(
    st.tuples(
        st.integers(0, 3 * MIN),
        st.integers(1, 1000),
        st.integers(1, 50),
        st.sampled_from(["AAPL", "MSFT"]),
    ),  # fmt: skip
    max_size=120,
)


@settings(max_examples=150, deadline=None)
@given(sessions, st.lists(st.integers(0, 120), max_size=8))
def test_any_split_into_batches_gives_the_same_candles_and_the_reference_ones(
    rows: list[tuple[int, int, int, str]], cuts: list[int]
) -> None:
    clock = 0
    trades = []
    for seq, (gap, price, size, symbol) in enumerate(rows):
        clock += gap
        trades.append(trade(clock, price, size, symbol, seq))
    config = BufferConfig(retention={"1m": 10_000, "15m": 10_000, "1h": 10_000})
    whole, whole_closed = step(MarketBuffers(config), trades)
    split = MarketBuffers(config)
    split_closed = []
    bounds = [0, *sorted(c % (len(trades) + 1) for c in cuts), len(trades)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        split_closed.extend(step(split, trades[lo:hi])[1])
    assert split_closed == whole_closed
    for symbol in ("AAPL", "MSFT"):
        mine = [t for t in trades if t.symbol == symbol]
        for name in ("1m", "15m", "1h"):
            got = split.candles("venue", symbol, name, 10_000)
            assert got == whole.candles("venue", symbol, name, 10_000)
            assert (got or []) == reference(mine, interval_ns(name))


def test_crypto_trades_are_keyed_by_their_market_with_the_aggressor_they_carry() -> None:
    crypto = crypto_trade(side="sell")
    trade = trade_of(crypto)
    assert trade is not None
    assert (trade.venue, trade.symbol, trade.aggressor) == (crypto.venue, crypto.symbol, "sell")
    assert (trade.price, trade.size, trade.sequence) == (crypto.price, crypto.size, crypto.sequence)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.tuples(st.integers(-2 * MIN, 3 * MIN), st.integers(1, 1000)), max_size=100),
    st.lists(st.integers(0, 100), max_size=8),
)
def test_late_trades_are_judged_the_same_whatever_the_batches(
    rows: list[tuple[int, int]], cuts: list[int]
) -> None:
    clock = 10 * MIN
    trades = []
    for seq, (gap, price) in enumerate(rows):
        clock = max(0, clock + gap)
        trades.append(trade(clock, price, 1, "AAPL", seq))
    config = BufferConfig(retention={"1m": 10_000, "1h": 10_000})
    whole, whole_closed = step(MarketBuffers(config), trades)
    split = MarketBuffers(config)
    split_closed = []
    bounds = [0, *sorted(c % (len(trades) + 1) for c in cuts), len(trades)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        split_closed.extend(step(split, trades[lo:hi])[1])
    assert (split_closed, split.late_trades) == (whole_closed, whole.late_trades)
    for name in ("1m", "1h"):
        assert split.candles("venue", "AAPL", name, 10_000) == whole.candles(
            "venue", "AAPL", name, 10_000
        )
    kept = whole.candles("venue", "AAPL", "1m", 10_000) or []
    assert sum(c.trades for c in kept) == len(trades) - whole.late_trades
