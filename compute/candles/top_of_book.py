"""Top-of-book "books" from quote feeds, keyed as trades are (`trade_of`).

Pure like the candle buffers: the daemon serves them, and a replay rebuilds them from the
same quotes.
"""

from __future__ import annotations

from schemas.crypto import CryptoQuote
from schemas.events import EquityQuote, Event
from schemas.ipc import BookSnapshot, Level


class QuoteBooks:
    """One-level books from top-of-book quotes, keyed as trades are (`trade_of`): equity
    quotes by source and symbol, crypto quotes by market and symbol."""

    def __init__(self) -> None:
        self._books: dict[tuple[str, str], BookSnapshot] = {}

    def apply(self, event: Event) -> tuple[str, str] | None:
        """Take a quote; the (venue, symbol) it changed, or None for any other event."""
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
        """The last quote as a one-level book (whatever `depth`), or None."""
        return self._books.get((venue, symbol))
