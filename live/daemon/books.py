"""Books the daemon serves, behind one small interface the book engine can stand behind."""

from __future__ import annotations

from typing import Protocol

from compute.candles import QuoteBooks
from schemas.events import Event
from schemas.ipc import BookSnapshot


class BookKeeper(Protocol):
    """Applies the book-bearing events and answers snapshots of one venue and symbol."""

    def apply(self, event: Event) -> tuple[str, str] | None:
        """Apply `event` if it concerns a book; the (venue, symbol) it changed, else None."""
        ...

    def snapshot(self, venue: str, symbol: str, depth: int) -> BookSnapshot | None:
        """The book's top `depth` levels per side, or None for a book never seen."""
        ...


def new_books() -> BookKeeper:
    """The books the daemon and the recorder keep."""
    return QuoteBooks()
