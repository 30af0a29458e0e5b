"""One Databento MBP-10 record applied to a book: the levels as given.

Every record but a trade carries the ten levels per side after its change, so the book
becomes exactly those levels. A trade record's levels are the book just before the trade
(a trade changes no book; the records after it do), so a trade leaves the book alone and
its levels are the quote it is placed against.
"""

from __future__ import annotations

from compute.book.levels import replace_side
from compute.book.state import Book
from schemas.book import CLEAR, TRADE, Mbp10Record


def apply_mbp10(book: Book, record: Mbp10Record) -> None:
    """Apply one record to `book` (a trade record changes nothing)."""
    action = record.action
    if action == TRADE:
        return
    if action == CLEAR:
        book.maybe_bad = False
    replace_side(book, False, {level.price: [level.size, level.orders] for level in record.bids})
    replace_side(book, True, {level.price: [level.size, level.orders] for level in record.asks})
