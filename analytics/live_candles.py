"""Candles built print by print, mergeable with partial candles read from ClickHouse.

A `LiveCandle` keeps open and close as (canonical key, price) tuples and takes the smaller
and the larger, so prints may come in any order and a stored partial candle (analytics.candles
with `with_keys`) merges in exactly: the result is the candle of all the prints, the same
arithmetic as the candle views and `fetch_candles`.
"""

from __future__ import annotations

from typing import Any

from analytics.candles import CandleSource
from schemas.cme import CmeTrade
from schemas.crypto import CryptoTrade
from schemas.events import EquityPrint, Event, OptionPrint

# Which series a print counts in: (kind, the field naming its key).
_SERIES_OF: dict[type[Event], tuple[tuple[str, str], ...]] = {
    OptionPrint: (("contract", "symbol"), ("underlying", "underlying")),
    EquityPrint: (("equity", "symbol"),),
    CryptoTrade: (("crypto", "symbol"),),
    CmeTrade: (("future", "symbol"),),
}
PRINT_TYPES: tuple[type[Event], ...] = tuple(_SERIES_OF)
PRINT_TYPE_OF_KIND: dict[str, type[Event]] = {
    kind: event_type for event_type, pairs in _SERIES_OF.items() for kind, _ in pairs
}


def series_of(event: Event) -> list[tuple[str, str]]:
    """The (kind, key) series a print counts in; none for any other event."""
    return [(kind, str(getattr(event, field))) for kind, field in _SERIES_OF.get(type(event), ())]


def _premium_cents(price: int, size: int) -> int:
    """price (1e-9 $) x size x 100 in cents, truncated toward zero as ClickHouse's intDiv."""
    cents = abs(price * size) // 100_000
    return cents if price * size >= 0 else -cents


def _sums(kind: str, event: Any) -> dict[str, int]:
    size = int(event.size)
    if kind == "contract":
        return {"volume": size, "trades": 1, "premium_cents": _premium_cents(event.price, size)}
    if kind == "underlying":
        premium = _premium_cents(event.price, size)
        call = event.symbol[-9:-8] == "C"
        return {
            "volume": size,
            "trades": 1,
            "premium_cents": premium,
            "call_volume": size if call else 0,
            "put_volume": 0 if call else size,
            "call_premium_cents": premium if call else 0,
            "put_premium_cents": 0 if call else premium,
        }
    if kind == "equity":
        dark = size if event.off_exchange else 0
        return {"volume": size, "off_exchange_volume": dark, "trades": 1}
    return {"volume": size, "trades": 1}


# The columns of a stored partial candle that are not sums.
_NOT_SUMS = frozenset({"start_ns", "first", "last", "high", "low", "open", "close"})


def bucket_start(ts_recv: int, seconds: int) -> int:
    """The start (epoch seconds) of the bucket a receive time falls in."""
    whole = ts_recv // 1_000_000_000
    return whole - whole % seconds


class LiveCandle:
    """One bucket of one series: open/close as (canonical key, price), high, low, sums."""

    __slots__ = ("first", "high", "last", "low", "source", "start_s", "sums")

    def __init__(self, source: CandleSource, start_s: int) -> None:
        self.source = source
        self.start_s = start_s
        self.first: tuple[int, ...] | None = None
        self.last: tuple[int, ...] | None = None
        self.high: int | None = None
        self.low: int | None = None
        self.sums: dict[str, int] = {}

    def add_print(self, event: Any) -> None:
        order = self.source.order
        price = int(event.price)
        key = None if order is None else (*(int(getattr(event, c)) for c in order), price)
        high_low = (None, None) if order is None else (price, price)
        self._take(key, key, *high_low, _sums(self.source.kind, event))

    def merge_stored(self, row: dict[str, Any]) -> None:
        """Merge a partial candle of `fetch_candles` with `with_keys`."""
        sums = {name: int(value) for name, value in row.items() if name not in _NOT_SUMS}
        self._take(row.get("first"), row.get("last"), row.get("high"), row.get("low"), sums)

    def _take(
        self,
        first: tuple[int, ...] | None,
        last: tuple[int, ...] | None,
        high: int | None,
        low: int | None,
        sums: dict[str, int],
    ) -> None:
        if first is not None and (self.first is None or first < self.first):
            self.first = first
        if last is not None and (self.last is None or last > self.last):
            self.last = last
        if high is not None:
            self.high = high if self.high is None else max(self.high, high)
        if low is not None:
            self.low = low if self.low is None else min(self.low, low)
        for name, value in sums.items():
            self.sums[name] = self.sums.get(name, 0) + value

    def view(self) -> dict[str, Any]:
        """As `fetch_candles` returns a candle."""
        return {
            "start_ns": self.start_s * 1_000_000_000,
            "open": None if self.first is None else self.first[-1],
            "high": self.high,
            "low": self.low,
            "close": None if self.last is None else self.last[-1],
            **self.sums,
        }
