"""The order-book engine: `step(state, batch) -> (state, outputs)`. Pure: no I/O, no clock.

L2 books per venue and symbol from Databento MBO (`schemas.book.MboEvent`), MBP-10
(`Mbp10Event`) and crypto depth (`schemas.crypto.BookUpdate`); every trade comes out as a
`BookTrade` placed against the book just before it. Queries (`best_bid_ask`, `levels`,
`imbalance`, `view`) read a state without changing it.
"""

from compute.book.engine import finish, step
from compute.book.query import (
    IMBALANCE_SCALE,
    BestBidAsk,
    BookView,
    at_or_through_touch,
    best_bid_ask,
    find_book,
    imbalance,
    levels,
    view,
)
from compute.book.state import (
    Book,
    BookState,
    book_key,
    decode_state,
    encode_state,
    initial_state,
)

__all__ = [
    "IMBALANCE_SCALE",
    "BestBidAsk",
    "Book",
    "BookState",
    "BookView",
    "at_or_through_touch",
    "best_bid_ask",
    "book_key",
    "decode_state",
    "encode_state",
    "find_book",
    "finish",
    "imbalance",
    "initial_state",
    "levels",
    "step",
    "view",
]
