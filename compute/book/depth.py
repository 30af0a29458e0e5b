"""Crypto depth (`schemas.crypto.BookUpdate`) applied to a book, with its sequence checks.

A snapshot replaces the book. A diff sets each level's size (0 removes it) when it
continues the chain of update ids: the first diff after a snapshot must span the id after
it (`first_update_id <= last + 1`; Binance's bridging rule) or name the snapshot's id as
its previous one (`prev_update_id == last`: Binance futures, whose ids are shared by every
symbol, so the first diff may begin well past the snapshot), later ones must follow it
exactly (`prev_update_id == last` where the venue gives one, as Binance futures do, else
`first_update_id == last + 1`). A diff at or below the last id is a repeat (counted,
skipped). A broken chain clears the book, marks it out of sync and says so with a
`BookResync`; diffs are then skipped (counted) until the next snapshot. A provider gap
reported for the book (`ProviderGap`) marks it out of sync the same way.
"""

from __future__ import annotations

from compute.book.levels import clear, replace_side, set_level
from compute.book.state import Book, BookState, bump
from schemas.book import BookResync
from schemas.crypto import BookUpdate


def apply_depth(state: BookState, book: Book, event: BookUpdate) -> BookResync | None:
    """Apply one snapshot or diff; the `BookResync` when it broke the chain."""
    if event.snapshot:
        replace_side(book, False, _levels(event.bid_px, event.bid_sz))
        replace_side(book, True, _levels(event.ask_px, event.ask_sz))
        book.sequence = event.sequence
        book.in_sync = True
        book.bridging = True
        bump(state, "depth_snapshots")
        return None
    if not book.in_sync:
        bump(state, "depth_update_out_of_sync")
        return None
    last = book.sequence
    if event.sequence <= last:
        bump(state, "depth_update_stale")
        return None
    if book.bridging:
        # Futures ids are shared by every symbol: a first diff may start past the snapshot
        # and still continue it, which its previous id says.
        chained = event.first_update_id <= last + 1 or event.prev_update_id == last
    elif event.prev_update_id is not None:
        chained = event.prev_update_id == last
    else:
        chained = event.first_update_id == last + 1
    if not chained:
        mark_out_of_sync(state, book)
        return BookResync(
            event.ts_recv, event.venue, event.symbol, last, event.first_update_id,
            event.prev_update_id, event.sequence,
        )  # fmt: skip
    for price, size in zip(event.bid_px, event.bid_sz, strict=True):
        set_level(book, False, price, size)
    for price, size in zip(event.ask_px, event.ask_sz, strict=True):
        set_level(book, True, price, size)
    book.sequence = event.sequence
    book.bridging = False
    return None


def mark_out_of_sync(state: BookState, book: Book) -> None:
    """Clear a depth book and wait for its next snapshot."""
    clear(book)
    book.in_sync = False
    book.bridging = False
    bump(state, "depth_resyncs")


def _levels(prices: list[int], sizes: list[int]) -> dict[int, list[int]]:
    return {price: [size, 0] for price, size in zip(prices, sizes, strict=True) if size > 0}
