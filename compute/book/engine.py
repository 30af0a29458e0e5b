"""The book engine: `step(state, batch) -> (state, outputs)` and `finish(state)`.

Caller contract: raw events in canonical order (`schemas.ordering`). `step` updates the
state it is given in place and returns that same object; a caller that needs an earlier
state keeps `encode_state(state)` bytes. Every event is applied whole, in order, and its
outputs (one `BookTrade` per trade, placed against the book just before it; a `BookResync`
when a depth feed's chain of update ids breaks) are emitted with it, so outputs and state
never depend on where batches begin or end. Events of other systems on the log are counted
(`ignored:<type>`) and passed over; a `ProviderGap` naming a venue puts its depth books out
of sync.

A book belongs to the first feed that names it (`mbo`, `mbp10` or `depth`); events of
another feed for the same venue and symbol are counted (`ignored_other_feed:<feed>`) and
leave it alone, so one book never mixes two views of the market.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from compute.book.depth import apply_depth, mark_out_of_sync
from compute.book.levels import clear
from compute.book.mbo import apply_mbo
from compute.book.mbp import apply_mbp10
from compute.book.state import L_SIZE, Book, BookState, book_key, bump
from schemas.book import (
    F_LAST,
    F_MAYBE_BAD_BOOK,
    F_SNAPSHOT,
    TRADE,
    BookFeed,
    BookTrade,
    MboEvent,
    MboRecord,
    Mbp10Event,
    Mbp10Record,
)
from schemas.crypto import BookUpdate, ProviderGap
from schemas.events import Event

Quote = tuple[int | None, int | None, int | None, int | None]  # bid px, ask px, bid sz, ask sz


def step(state: BookState, batch: Sequence[Event]) -> tuple[BookState, list[Event]]:
    """Apply `batch` to `state`; its outputs (trades placed in their books, depth resyncs)."""
    out: list[Event] = []
    for event in batch:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            bump(state, f"ignored:{type(event).__name__}")
        else:
            handler(state, event, out)
    return state, out


def finish(state: BookState) -> tuple[BookState, list[Event]]:
    """End of session: nothing is held back (every output leaves with its event)."""
    return state, []


def _book(state: BookState, venue: str, symbol: str, feed: BookFeed, event: Any) -> Book | None:
    key = book_key(venue, symbol)
    book = state.books.get(key)
    if book is None:
        book = Book(venue, symbol, feed, event.publisher_id, event.instrument_id)
        state.books[key] = book
    elif book.feed != feed:
        bump(state, f"ignored_other_feed:{feed}")
        return None
    book.publisher_id = event.publisher_id
    book.instrument_id = event.instrument_id
    book.ts_recv = event.ts_recv
    return book


def _mark_bad(state: BookState, book: Book) -> None:
    if not book.maybe_bad:
        book.maybe_bad = True
        bump(state, "maybe_bad_book")


def _close_event(state: BookState, book: Book, last_flags: int) -> None:
    # Only the last record's flags say where the book stands between events.
    book.snapshot = bool(last_flags & F_SNAPSHOT)
    book.complete = bool(last_flags & F_LAST)
    bid, ask = book.best_bid, book.best_ask
    if bid is not None and ask is not None and bid >= ask:
        bump(state, "events_left_crossed")


def _trade(
    state: BookState,
    event: MboEvent | Mbp10Event,
    record: MboRecord | Mbp10Record,
    quote: Quote,
    snapshot: bool,
) -> BookTrade | None:
    price = record.price
    if price is None:
        bump(state, "trade_undefined_price")
        return None
    bid_px, ask_px, bid_sz, ask_sz = quote
    crossed = bid_px is not None and ask_px is not None and bid_px >= ask_px
    return BookTrade(
        event.ts_recv, record.ts_event, event.publisher_id, event.instrument_id,
        record.sequence, event.venue, event.symbol, price, record.size, record.side,
        record.flags, bid_px, ask_px, bid_sz, ask_sz, crossed, snapshot,
    )  # fmt: skip


def _book_touch(book: Book, record: MboRecord) -> Quote:
    """An MBO trade meets the book as it stands: its fills' cancels come after it."""
    bid, ask = book.best_bid, book.best_ask
    return (
        bid,
        ask,
        None if bid is None else book.bids[bid][L_SIZE],
        None if ask is None else book.asks[ask][L_SIZE],
    )


def _record_touch(book: Book, record: Mbp10Record) -> Quote:
    """An MBP-10 trade record carries the levels just before the trade."""
    bid = record.bids[0] if record.bids else None
    ask = record.asks[0] if record.asks else None
    return (
        None if bid is None else bid.price,
        None if ask is None else ask.price,
        None if bid is None else bid.size,
        None if ask is None else ask.size,
    )


def _apply_mbp10(state: BookState, book: Book, record: Mbp10Record) -> None:
    apply_mbp10(book, record)


def _venue_event(
    state: BookState,
    event: MboEvent | Mbp10Event,
    out: list[Event],
    feed: BookFeed,
    touch: Callable[[Book, Any], Quote],
    apply: Callable[[BookState, Book, Any], None],
) -> None:
    book = _book(state, event.venue, event.symbol, feed, event)
    if book is None:
        return
    book.sequence = event.sequence
    flags = 0
    # A snapshot's records are one venue event (the last carries F_LAST); one left
    # unfinished by the event before is still loading.
    loading = book.snapshot and not book.complete
    for record in event.records:
        flags = record.flags
        if flags & F_SNAPSHOT and not loading:
            # A snapshot is the whole book, whether or not a clear leads it (Databento's
            # daily files start with snapshot adds and no clear).
            loading = True
            clear(book)
            bump(state, "snapshots")
        if flags & F_MAYBE_BAD_BOOK:
            _mark_bad(state, book)
        if record.action == TRADE:
            trade = _trade(state, event, record, touch(book, record), bool(flags & F_SNAPSHOT))
            if trade is not None:
                out.append(trade)
        else:
            apply(state, book, record)
    _close_event(state, book, flags)


def _on_mbo(state: BookState, event: MboEvent, out: list[Event]) -> None:
    _venue_event(state, event, out, "mbo", _book_touch, apply_mbo)


def _on_mbp10(state: BookState, event: Mbp10Event, out: list[Event]) -> None:
    _venue_event(state, event, out, "mbp10", _record_touch, _apply_mbp10)


def _on_depth(state: BookState, event: BookUpdate, out: list[Event]) -> None:
    book = _book(state, event.venue, event.symbol, "depth", event)
    if book is None:
        return
    resync = apply_depth(state, book, event)
    if resync is not None:
        out.append(resync)
    _close_event(state, book, F_LAST)  # a depth event is always whole


def _on_provider_gap(state: BookState, event: ProviderGap, out: list[Event]) -> None:
    # A gap naming a venue (and symbol) puts its depth books out of sync until their next
    # snapshot; a gap of a whole provider names no market, so it is only counted.
    if not event.venue:
        bump(state, "provider_gaps_without_venue")
        return
    for book in state.books.values():
        if (
            book.feed == "depth"
            and book.venue == event.venue
            and (not event.symbol or book.symbol == event.symbol)
            and book.in_sync
        ):
            mark_out_of_sync(state, book)


_HANDLERS: dict[type[Event], Callable[[BookState, Any, list[Event]], None]] = {
    MboEvent: _on_mbo,
    Mbp10Event: _on_mbp10,
    BookUpdate: _on_depth,
    ProviderGap: _on_provider_gap,
}
