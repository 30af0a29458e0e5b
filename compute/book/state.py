"""The book engine's whole memory between batches, as plain msgspec data.

One `Book` per (venue, symbol): its price levels per side as `price -> [size, orders]`, and
for a book built from MBO its resting orders `order_id -> [is_ask, price, size]`. The best
price of each side is kept beside the levels (a level is added or emptied far more often
than the best changes), so the touch costs no scan. Priority within a level is not kept: the
engine serves L2 (size and order count per price). `encode_state` / `decode_state`
checkpoint it exactly, and a restored engine continues byte for byte.
"""

from __future__ import annotations

import msgspec

from schemas.book import BookFeed

# Offsets of an order's list.
O_IS_ASK, O_PRICE, O_SIZE = 0, 1, 2
# Offsets of a level's list.
L_SIZE, L_ORDERS = 0, 1


class Book(msgspec.Struct, array_like=True, gc=False):
    """One instrument's book at one venue, and what is known about its state.

    - `snapshot`: the last record applied came from a snapshot (the book is being loaded);
    - `complete`: the last record applied closed its venue event (`F_LAST`): between two
      records of one event the book is in transit;
    - `maybe_bad`: the venue flagged an unrecoverable gap (`F_MAYBE_BAD_BOOK`) since the
      last clear;
    - `in_sync`: false while a depth feed waits for a snapshot after a sequence gap;
      `bridging`: a depth snapshot was applied and no diff after it yet;
    - `sequence`: the last update id applied (depth feeds) or the last venue sequence.
    A crossed or locked book (best bid at or above best ask) is kept as the feed left it.
    """

    venue: str
    symbol: str
    feed: BookFeed
    publisher_id: int
    instrument_id: int
    ts_recv: int = 0
    bids: dict[int, list[int]] = msgspec.field(default_factory=dict)
    asks: dict[int, list[int]] = msgspec.field(default_factory=dict)
    orders: dict[int, list[int]] = msgspec.field(default_factory=dict)
    best_bid: int | None = None
    best_ask: int | None = None
    snapshot: bool = False
    complete: bool = True
    maybe_bad: bool = False
    in_sync: bool = True
    bridging: bool = False
    sequence: int = 0


class BookState(msgspec.Struct, gc=False):
    """Every book by `book_key(venue, symbol)`, and the engine's counters by name."""

    books: dict[str, Book] = msgspec.field(default_factory=dict)
    counters: dict[str, int] = msgspec.field(default_factory=dict)


def book_key(venue: str, symbol: str) -> str:
    """The key of a book in `BookState.books` (a venue name never holds `|`)."""
    return f"{venue}|{symbol}"


def bump(state: BookState, name: str, by: int = 1) -> None:
    """Add to one of the engine's counters."""
    state.counters[name] = state.counters.get(name, 0) + by


def initial_state() -> BookState:
    """An engine that has seen nothing."""
    return BookState()


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(BookState)


def encode_state(state: BookState) -> bytes:
    """The state as msgpack bytes (what a checkpoint stores)."""
    return _encoder.encode(state)


def decode_state(data: bytes) -> BookState:
    """A state back from `encode_state` bytes."""
    return _decoder.decode(data)
