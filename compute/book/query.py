"""What a book answers: best bid and ask, the top levels, imbalance, a snapshot.

Books are found by venue and symbol (`GLBX`/`ESH1`, `XNAS`/`NVDA`, `binance-spot`/`BTC-USDT`).
Bids come best (highest) first, asks best (lowest) first. Nothing here changes the state.
A book that is unknown answers None; a side without levels answers None or an empty list.
"""

from __future__ import annotations

import heapq

import msgspec

from compute.book.state import L_ORDERS, L_SIZE, Book, BookState, book_key
from schemas.book import BookLevel, BookTrade

IMBALANCE_SCALE = 10_000


class BestBidAsk(msgspec.Struct, frozen=True, gc=False):
    """The touch of one book; `crossed` when the best bid is at or above the best ask."""

    bid: BookLevel | None
    ask: BookLevel | None
    crossed: bool


class BookView(msgspec.Struct, frozen=True, kw_only=True, gc=False):
    """The top `depth` levels of one book with what is known about its state (see `Book`).

    `usable` is false between the records of one venue event (a snapshot still loading is
    one: its last record carries `F_LAST`), after an unrecoverable venue gap, or out of sync.
    """

    venue: str
    symbol: str
    feed: str
    publisher_id: int
    instrument_id: int
    ts_recv: int
    bids: list[BookLevel]
    asks: list[BookLevel]
    crossed: bool
    snapshot: bool
    complete: bool
    maybe_bad: bool
    in_sync: bool

    @property
    def usable(self) -> bool:
        return self.complete and self.in_sync and not self.maybe_bad


def find_book(state: BookState, venue: str, symbol: str) -> Book | None:
    """The book of `symbol` at `venue`, or None."""
    return state.books.get(book_key(venue, symbol))


def best_bid_ask(state: BookState, venue: str, symbol: str) -> BestBidAsk | None:
    """The best bid and ask with their size and order count."""
    book = find_book(state, venue, symbol)
    if book is None:
        return None
    bid, ask = book.best_bid, book.best_ask
    return BestBidAsk(
        None if bid is None else _level(bid, book.bids[bid]),
        None if ask is None else _level(ask, book.asks[ask]),
        _crossed(book),
    )


def levels(
    state: BookState, venue: str, symbol: str, depth: int
) -> tuple[list[BookLevel], list[BookLevel]] | None:
    """The top `depth` levels per side: (bids highest first, asks lowest first)."""
    book = find_book(state, venue, symbol)
    if book is None:
        return None
    return _top(book, depth)


def imbalance(state: BookState, venue: str, symbol: str, depth: int) -> int | None:
    """Size imbalance over the top `depth` levels as an integer q / 10 000:
    (bid size - ask size) / (bid size + ask size), rounded half away from zero, in
    [-10 000, 10 000]; None when the book is unknown or both sides are empty."""
    found = levels(state, venue, symbol, depth)
    if found is None:
        return None
    bids, asks = found
    bid_size = sum(level.size for level in bids)
    ask_size = sum(level.size for level in asks)
    total = bid_size + ask_size
    if total <= 0:
        return None
    numerator = (bid_size - ask_size) * IMBALANCE_SCALE
    magnitude = (2 * abs(numerator) + total) // (2 * total)
    return magnitude if numerator >= 0 else -magnitude


def view(state: BookState, venue: str, symbol: str, depth: int) -> BookView | None:
    """The top `depth` levels of a book and its marks, as one value to serve or record."""
    book = find_book(state, venue, symbol)
    if book is None:
        return None
    bids, asks = _top(book, depth)
    return BookView(
        venue=book.venue,
        symbol=book.symbol,
        feed=book.feed,
        publisher_id=book.publisher_id,
        instrument_id=book.instrument_id,
        ts_recv=book.ts_recv,
        bids=bids,
        asks=asks,
        crossed=_crossed(book),
        snapshot=book.snapshot,
        complete=book.complete,
        maybe_bad=book.maybe_bad,
        in_sync=book.in_sync,
    )


def _level(price: int, level: list[int]) -> BookLevel:
    return BookLevel(price, level[L_SIZE], level[L_ORDERS])


def _top(book: Book, depth: int) -> tuple[list[BookLevel], list[BookLevel]]:
    depth = max(depth, 0)
    bids, asks = book.bids, book.asks
    return (
        [_level(price, bids[price]) for price in heapq.nlargest(depth, bids)],
        [_level(price, asks[price]) for price in heapq.nsmallest(depth, asks)],
    )


def _crossed(book: Book) -> bool:
    bid, ask = book.best_bid, book.best_ask
    return bid is not None and ask is not None and bid >= ask


def at_or_through_touch(trade: BookTrade) -> bool | None:
    """Whether an aggressor printed at or through the touch of the side it hit: a buy (`B`)
    at or above the best ask, a sell (`A`) at or below the best bid. None where it cannot
    be told: no aggressor (`N`), or that side of the book was empty."""
    if trade.side == "B":
        return None if trade.ask_px is None else trade.price >= trade.ask_px
    if trade.side == "A":
        return None if trade.bid_px is None else trade.price <= trade.bid_px
    return None
