"""Books the daemon serves, behind one small interface the book engine can stand behind."""

from __future__ import annotations

from typing import Protocol

from schemas.crypto import CryptoQuote
from schemas.events import EquityQuote, Event
from schemas.ipc import BookSnapshot, Level


class BookKeeper(Protocol):
    """Applies the book-bearing events and answers snapshots of one venue and symbol."""

    def apply(self, event: Event) -> tuple[str, str] | None:
        """Apply `event` if it concerns a book; the (venue, symbol) it changed, else None."""
        ...

    def snapshot(self, venue: str, symbol: str, depth: int) -> BookSnapshot | None:
        """The book's top `depth` levels per side, or None for a book never seen."""
        ...


class QuoteBooks:
    """One-level books from top-of-book quotes, keyed as trades are (`trade_of`): equity
    quotes by source and symbol, crypto quotes by market and symbol."""

    def __init__(self) -> None:
        self._books: dict[tuple[str, str], BookSnapshot] = {}

    def apply(self, event: Event) -> tuple[str, str] | None:
        if type(event) is CryptoQuote:
            venue = event.venue
        elif type(event) is EquityQuote:
            venue = event.source
        else:
            return None
        bids = [Level(event.bid_px, event.bid_sz)] if event.bid_px is not None else []
        asks = [Level(event.ask_px, event.ask_sz)] if event.ask_px is not None else []
        crossed = bool(bids and asks and bids[0].price >= asks[0].price)
        key = (venue, event.symbol)
        self._books[key] = BookSnapshot(venue=venue, symbol=event.symbol,
                                        ts_recv=event.ts_recv, bids=bids, asks=asks,
                                        crossed=crossed)  # fmt: skip
        return key

    def snapshot(self, venue: str, symbol: str, depth: int) -> BookSnapshot | None:
        return self._books.get((venue, symbol))
