"""The trade ring and candle buffers of every venue and symbol.

A series (venue, symbol) keeps its last `trades_kept` trades and, per interval, its last
candles: the closed ones in a ring and the open one. A trade in a later bucket closes the open
candle; a trade older than an open candle's bucket is late: it is kept in the trade ring and
counted, but never rewrites a candle (closed output stays closed). Trades apply in the order
given, so open and close are the first and last trade of the bucket in that order.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from itertools import islice
from typing import TypeVar

import msgspec

from compute.candles.config import BufferConfig
from compute.candles.intervals import interval_ns
from schemas.ipc import Candle, Trade

_T = TypeVar("_T")

# Fields of an open candle, kept as a list so a trade updates it in place.
_START, _OPEN, _HIGH, _LOW, _CLOSE, _VOLUME, _TRADES = range(7)


class ClosedCandle(msgspec.Struct, frozen=True, array_like=True, gc=False):
    """A candle that a later trade closed."""

    venue: str
    symbol: str
    interval: str
    candle: Candle


def _frozen(row: list[int]) -> Candle:
    return Candle(*row)


class _Series:
    __slots__ = ("closed", "open", "trades")

    def __init__(self, config: BufferConfig) -> None:
        self.trades: deque[Trade] = deque(maxlen=config.trades_kept)
        self.closed: dict[str, deque[Candle]] = {
            name: deque(maxlen=count - 1) for name, count in config.retention.items()
        }
        self.open: dict[str, list[int] | None] = dict.fromkeys(config.retention)


class MarketBuffers:
    """Mutable state of the buffers; `step` and the seeding methods are its only writers."""

    def __init__(self, config: BufferConfig) -> None:
        self.config = config
        self.intervals = tuple((name, interval_ns(name)) for name in config.retention)
        self.series: dict[tuple[str, str], _Series] = {}
        self.late_trades = 0

    def _series(self, venue: str, symbol: str) -> _Series:
        series = self.series.get((venue, symbol))
        if series is None:
            series = self.series[(venue, symbol)] = _Series(self.config)
        return series

    def apply(self, trade: Trade) -> list[ClosedCandle]:
        """Add one trade; returns the candles it closed."""
        series = self._series(trade.venue, trade.symbol)
        series.trades.append(trade)
        ts = trade.ts_recv
        for name, length in self.intervals:
            row = series.open[name]
            if row is not None and ts - ts % length < row[_START]:
                self.late_trades += 1
                return []
        closed: list[ClosedCandle] = []
        price, size = trade.price, trade.size
        for name, length in self.intervals:
            start = ts - ts % length
            row = series.open[name]
            if row is not None and row[_START] == start:
                row[_HIGH] = max(row[_HIGH], price)
                row[_LOW] = min(row[_LOW], price)
                row[_CLOSE] = price
                row[_VOLUME] += size
                row[_TRADES] += 1
                continue
            if row is not None:
                candle = _frozen(row)
                series.closed[name].append(candle)
                closed.append(ClosedCandle(trade.venue, trade.symbol, name, candle))
            series.open[name] = [start, price, price, price, price, size, 1]
        return closed

    def has_interval(self, interval: str) -> bool:
        return interval in self.config.retention

    def candles(self, venue: str, symbol: str, interval: str, count: int) -> list[Candle] | None:
        """The last `count` candles, oldest first, the open one last; None for an unknown
        series or interval."""
        series = self.series.get((venue, symbol))
        if series is None or interval not in series.closed:
            return None
        row = series.open[interval]
        if count <= 0:
            return []
        wanted_closed = count - 1 if row is not None else count
        closed = _last(series.closed[interval], wanted_closed)
        return closed + [_frozen(row)] if row is not None else closed

    def latest_candle(self, venue: str, symbol: str, interval: str) -> Candle | None:
        series = self.series.get((venue, symbol))
        row = series.open.get(interval) if series is not None else None
        return _frozen(row) if row is not None else None

    def trades(self, venue: str, symbol: str, count: int) -> list[Trade] | None:
        """The last `count` trades, oldest first; None for an unknown series."""
        series = self.series.get((venue, symbol))
        if series is None:
            return None
        return _last(series.trades, count)

    def seed_candles(
        self, venue: str, symbol: str, interval: str, candles: Sequence[Candle]
    ) -> None:
        """Start a series' interval from stored candles (oldest first; the last stays open)."""
        if not candles or interval not in self.config.retention:
            return
        series = self._series(venue, symbol)
        series.closed[interval].extend(candles[:-1])
        series.open[interval] = list(msgspec.structs.astuple(candles[-1]))

    def seed_trades(self, venue: str, symbol: str, trades: Iterable[Trade]) -> None:
        """Start a series' trade ring from stored trades (oldest first)."""
        self._series(venue, symbol).trades.extend(trades)


def _last(ring: deque[_T], count: int) -> list[_T]:
    """The last `count` items of a ring, oldest first, touching only those."""
    newest_first = list(islice(reversed(ring), max(count, 0)))
    newest_first.reverse()
    return newest_first


def step(state: MarketBuffers, trades: Iterable[Trade]) -> tuple[MarketBuffers, list[ClosedCandle]]:
    """Apply trades in order; returns the state (updated in place) and the candles closed."""
    closed: list[ClosedCandle] = []
    for trade in trades:
        closed.extend(state.apply(trade))
    return state, closed
