"""What the daemon holds: trade rings, candles and books, and what each batch changed."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from compute.candles import ClosedCandle, MarketBuffers, trade_of
from live.daemon.books import BookKeeper
from schemas.events import Event
from schemas.ipc import Trade

SeriesKey = tuple[str, str]


@dataclass
class Changes:
    """What one batch of events changed, for the subscriptions."""

    trades: dict[SeriesKey, list[Trade]] = field(default_factory=lambda: defaultdict(list))
    closed: dict[SeriesKey, list[ClosedCandle]] = field(default_factory=lambda: defaultdict(list))
    books: set[SeriesKey] = field(default_factory=set)


class MarketState:
    """The buffers and books, fed events in log order."""

    def __init__(self, buffers: MarketBuffers, books: BookKeeper) -> None:
        self.buffers = buffers
        self.books = books
        self.events = 0

    def apply(self, events: Iterable[Event]) -> Changes:
        changes = Changes()
        for event in events:
            self.events += 1
            trade = trade_of(event)
            if trade is not None:
                key = (trade.venue, trade.symbol)
                changes.trades[key].append(trade)
                closed = self.buffers.apply(trade)
                if closed:
                    changes.closed[key].extend(closed)
                continue
            touched = self.books.apply(event)
            if touched is not None:
                changes.books.add(touched)
        return changes
