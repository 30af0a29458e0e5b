"""Live candles equal the candle of all their prints, whatever the order and the split
between stored and live prints."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from analytics.candles import SOURCES
from analytics.live_candles import LiveCandle, bucket_start, series_of
from schemas.cme import CmeTrade
from schemas.crypto import CryptoTrade
from schemas.events import EquityPrint, Event, OptionPrint
from tests.kit.crypto import crypto_trade
from tests.kit.events import equity_print, option_print

CALL, PUT = "AAPL  240119C00190000", "AAPL  240119P00185000"
TYPE_OF = {"contract": OptionPrint, "underlying": OptionPrint, "equity": EquityPrint,
           "crypto": CryptoTrade, "future": CmeTrade}  # fmt: skip


def prints(seed: int, count: int) -> list[Event]:
    """Prints of every kind at a handful of receive times (ties on ts_recv are common)."""
    rng = random.Random(seed)
    out: list[Event] = []
    for i in range(count):
        ts = 10**9 + rng.randrange(4) * 1000
        price, size, pub = rng.randrange(1, 50) * 10**7, rng.randrange(1, 40), rng.randrange(3)
        out.append(option_print(ts_recv=ts, publisher_id=pub, sequence=i, price=price,
                                size=size, symbol=rng.choice([CALL, PUT])))  # fmt: skip
        out.append(equity_print(ts_recv=ts, publisher_id=pub, sequence=i, price=price,
                                size=size, off_exchange=rng.random() < 0.5))  # fmt: skip
        out.append(crypto_trade(ts_recv=ts, publisher_id=pub, sequence=i, price=price, size=size))
        out.append(CmeTrade(ts_recv=ts, ts_event=ts, publisher_id=pub, source="databento",
                            instrument_id=rng.randrange(2), symbol="ESZ4", sequence=i,
                            price=price - 10**9, size=size, side="A"))  # fmt: skip
    return out


def by_hand(kind: str, events: list[Any]) -> dict[str, Any]:
    """The candle of `events` in one bucket, computed here from its definition."""
    mine = [e for e in events if isinstance(e, TYPE_OF[kind])]
    out: dict[str, Any] = {"start_ns": 10**9, "open": None, "high": None, "low": None,
                           "close": None}  # fmt: skip
    order = SOURCES[kind].order
    if order is not None:
        ranked = sorted(mine, key=lambda e: ([getattr(e, c) for c in order], e.price))
        out |= {"open": ranked[0].price, "close": ranked[-1].price,
                "high": max(e.price for e in mine), "low": min(e.price for e in mine)}  # fmt: skip
    out["volume"], out["trades"] = sum(e.size for e in mine), len(mine)
    if kind in ("contract", "underlying"):
        out["premium_cents"] = sum(e.price * e.size * 100 * 100 // 10**9 for e in mine)
    if kind == "underlying":
        calls = [e for e in mine if e.symbol == CALL]
        puts = [e for e in mine if e.symbol == PUT]
        out["call_volume"], out["put_volume"] = (
            sum(e.size for e in calls),
            sum(e.size for e in puts),
        )
        out["call_premium_cents"] = sum(e.price * e.size // 100_000 for e in calls)
        out["put_premium_cents"] = sum(e.price * e.size // 100_000 for e in puts)
    if kind == "equity":
        out["off_exchange_volume"] = sum(e.size for e in mine if e.off_exchange)
    return out


def built(kind: str, events: list[Event]) -> LiveCandle:
    candle = LiveCandle(SOURCES[kind], 1)
    for event in events:
        if any(k == kind for k, _ in series_of(event)):
            candle.add_print(event)
    return candle


def stored_row(candle: LiveCandle) -> dict[str, Any]:
    """A partial candle as `fetch_candles(..., with_keys=True)` gives it."""
    return {"start_ns": 10**9, "first": candle.first, "last": candle.last, "high": candle.high,
            "low": candle.low, **candle.sums}  # fmt: skip


@given(seed=st.integers(0, 10**6), count=st.integers(1, 30), cut=st.floats(0, 1))
def test_stored_part_merged_into_live_part_is_the_candle_of_all_prints(
    seed: int, count: int, cut: float
) -> None:
    events = prints(seed, count)
    random.Random(seed).shuffle(events)
    split = int(len(events) * cut)
    for kind in TYPE_OF:
        live = built(kind, events[split:])
        stored = built(kind, events[:split])
        if stored.sums:
            live.merge_stored(stored_row(stored))
        assert live.view() == by_hand(kind, events), kind


def test_series_of_names_each_print_kind_and_nothing_else() -> None:
    assert series_of(option_print(symbol=CALL, underlying="AAPL")) == [
        ("contract", CALL), ("underlying", "AAPL"),
    ]  # fmt: skip
    assert series_of(equity_print(symbol="AAPL")) == [("equity", "AAPL")]
    assert series_of(crypto_trade(symbol="BTC-USDT")) == [("crypto", "BTC-USDT")]
    future = CmeTrade(ts_recv=1, ts_event=1, publisher_id=1, instrument_id=5, source="databento",
                      symbol="ESZ4", sequence=1, price=1, size=1, side="B")  # fmt: skip
    assert series_of(future) == [("future", "ESZ4")]
    assert series_of(object()) == []  # type: ignore[arg-type]


def test_bucket_start_is_epoch_aligned_seconds() -> None:
    assert bucket_start(14_400 * 10**9 + 5, 14_400) == 14_400
    assert bucket_start(14_400 * 10**9 - 1, 14_400) == 0
    assert bucket_start(59_999_999_999, 60) == 0
