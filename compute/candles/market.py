"""Everything the daemon keeps of the market, fed raw events in log order: trade rings and
candles, L2 books (the order-book engine) and top-of-book quotes.

Trades come from the trade events and from the trades the book engine places in its books
(Databento MBO and MBP-10 carry the venue's trades). A book is served from the book engine
where it keeps one, else from the last quote.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import compute.book as book_engine
from compute.candles.buffers import ClosedCandle, MarketBuffers
from compute.candles.config import BufferConfig
from compute.candles.top_of_book import QuoteBooks
from compute.candles.trades import trade_of
from schemas.book import MboEvent, Mbp10Event
from schemas.crypto import BookUpdate, ProviderGap
from schemas.events import Event
from schemas.ipc import BookSnapshot, Level, Trade

SeriesKey = tuple[str, str]
DEPTH_EVENTS = (MboEvent, Mbp10Event, BookUpdate)


@dataclass
class Changes:
    """What some events changed: for the subscriptions and the recorder."""

    trades: dict[SeriesKey, list[Trade]] = field(default_factory=lambda: defaultdict(list))
    closed: list[ClosedCandle] = field(default_factory=list)
    books: set[SeriesKey] = field(default_factory=set)


class Market:
    """The buffers and books; `apply` is their only writer."""

    def __init__(self, config: BufferConfig) -> None:
        self.buffers = MarketBuffers(config)
        self.book_state = book_engine.initial_state()
        self.quotes = QuoteBooks()
        self.events = 0

    def apply(self, events: Iterable[Event]) -> Changes:
        changes = Changes()
        for event in events:
            self.events += 1
            trade = trade_of(event)
            if trade is not None:
                self._trade(trade, changes)
            elif isinstance(event, DEPTH_EVENTS):
                _, placed = book_engine.step(self.book_state, [event])
                changes.books.add((event.venue, event.symbol))
                for output in placed:
                    trade = trade_of(output)
                    if trade is not None:
                        self._trade(trade, changes)
            elif isinstance(event, ProviderGap):
                book_engine.step(self.book_state, [event])
                if event.venue and event.symbol:
                    changes.books.add((event.venue, event.symbol))
            else:
                touched = self.quotes.apply(event)
                if touched is not None:
                    changes.books.add(touched)
        return changes

    def _trade(self, trade: Trade, changes: Changes) -> None:
        changes.trades[(trade.venue, trade.symbol)].append(trade)
        changes.closed.extend(self.buffers.apply(trade))

    def book(self, venue: str, symbol: str, depth: int) -> BookSnapshot | None:
        """The top `depth` levels of a book, or None for a book never seen."""
        found = book_engine.view(self.book_state, venue, symbol, depth)
        if found is None:
            return self.quotes.snapshot(venue, symbol, depth)
        return BookSnapshot(
            venue=found.venue,
            symbol=found.symbol,
            ts_recv=found.ts_recv,
            bids=[Level(lv.price, lv.size, lv.orders) for lv in found.bids],
            asks=[Level(lv.price, lv.size, lv.orders) for lv in found.asks],
            crossed=found.crossed,
            usable=found.usable,
        )
