"""Order-book events: Databento MBO and MBP-10 as venue events, and trades placed in the book.

One raw event is one venue event of one instrument, as Databento delimits it: its records in
feed order up to and including the one flagged `F_LAST` ("the last record in the event from
the venue for a given instrument_id"). Records of one event share their receive time and
often their sequence number, so carrying them as separate events would let the canonical
order's tie-break (the event bytes) reshuffle them: a trade would sort after the cancels
that follow it, a clear after the adds of its snapshot. As one event their order is the
feed's. Several events of one instrument in one packet share receive time and sequence
too; the tie-break then orders them by `ts_event`, which is encoded before the records and
rises within a packet (a real CME ES session: 1,240 such packets, `ts_event` strictly
rising in every one).

Prices keep the 1e-9 scale (`schemas.events.PRICE_SCALE`); Databento's undefined price
(i64::MAX, e.g. on a clear or an empty top-of-book record) is None. `side` and `action` are
Databento's characters.
"""

from __future__ import annotations

from typing import Literal

from schemas.events import Event, MarketEvent, Record

# Databento record flags (a bitmask; databento_dbn `F_*`, dbn `flags.rs`).
F_LAST = 1 << 7  # last record of the venue event for this instrument
F_TOB = 1 << 6  # a top-of-book record, not an individual order
F_SNAPSHOT = 1 << 5  # sourced from a replay, such as a snapshot server
F_MBP = 1 << 4  # an aggregated price level, not an individual order
F_BAD_TS_RECV = 1 << 3  # ts_recv is inaccurate (clock issues or packet reordering)
F_MAYBE_BAD_BOOK = 1 << 2  # an unrecoverable gap was detected in the channel
F_PUBLISHER_SPECIFIC = 1 << 1

# Databento actions.
ADD, CANCEL, MODIFY, CLEAR, TRADE, FILL, NONE = "A", "C", "M", "R", "T", "F", "N"
ACTIONS = frozenset({ADD, CANCEL, MODIFY, CLEAR, TRADE, FILL, NONE})
# Databento sides: the resting order's side, or on a trade the aggressor's (B = buyer).
BID, ASK, NO_SIDE = "B", "A", "N"
SIDES = frozenset({BID, ASK, NO_SIDE})

BookFeed = Literal["mbo", "mbp10", "depth"]


class BookLevel(Record, frozen=True, array_like=True, kw_only=False):
    """One price level: total size and number of orders (0 where the feed does not count
    them, e.g. a top-of-book record)."""

    price: int
    size: int
    orders: int


class MboRecord(Record, frozen=True, array_like=True, kw_only=False):
    """One Databento MBO record inside its venue event."""

    ts_event: int
    sequence: int
    action: str
    side: str
    price: int | None
    size: int
    order_id: int
    flags: int


class MboEvent(MarketEvent, frozen=True, kw_only=True, tag="mbo_event"):
    """One venue event of one instrument's order book from Databento MBO.

    `ts_recv` is the receive time of its last record, `sequence` that record's sequence;
    `venue` is the publisher's venue (e.g. `GLBX`, `XNAS`). `records` is never empty.
    """

    venue: str
    sequence: int
    records: list[MboRecord]


class Mbp10Record(Record, frozen=True, array_like=True, kw_only=False):
    """One Databento MBP-10 record: the change (`action` at `depth`) and the ten levels per
    side as given, best first, stopping at the first undefined level."""

    ts_event: int
    sequence: int
    action: str
    side: str
    depth: int
    price: int | None
    size: int
    flags: int
    bids: list[BookLevel]
    asks: list[BookLevel]


class Mbp10Event(MarketEvent, frozen=True, kw_only=True, tag="mbp10_event"):
    """One venue event of one instrument from Databento MBP-10 (see `MboEvent`)."""

    venue: str
    sequence: int
    records: list[Mbp10Record]


class BookTrade(Event, frozen=True, tag="book_trade"):
    """A trade with the best bid and ask of its book in force just before it.

    `side` is the aggressor as Databento gives it (`B` buyer, `A` seller, `N` none);
    `bid_*`/`ask_*` are None where that side of the book was empty; `crossed` says the book
    was crossed or locked (best bid at or above best ask) at that moment, as pre-open books
    can be; `snapshot` that the book was still being loaded from a snapshot.
    """

    ts_event: int
    publisher_id: int
    instrument_id: int
    sequence: int
    venue: str
    symbol: str
    price: int
    size: int
    side: str
    flags: int
    bid_px: int | None
    ask_px: int | None
    bid_sz: int | None
    ask_sz: int | None
    crossed: bool
    snapshot: bool


class BookResync(Event, frozen=True, tag="book_resync"):
    """A depth book whose chain of update ids broke: it is cleared and serves nothing until
    the next snapshot. `last_sequence` is the id the book had reached; the update that broke
    the chain covered `first_update_id`..`sequence` (`prev_update_id` where the venue gives
    one)."""

    venue: str
    symbol: str
    last_sequence: int
    first_update_id: int
    prev_update_id: int | None
    sequence: int


BOOK_RAW_EVENTS: tuple[type[Event], ...] = (MboEvent, Mbp10Event)

BookRawEvent = MboEvent | Mbp10Event
