"""Which raw events are trades, as the buffers see them."""

from __future__ import annotations

from schemas.book import BookTrade
from schemas.crypto import CryptoTrade
from schemas.events import EquityPrint, Event, Side
from schemas.ipc import Trade

# Databento's `side` of a trade is the aggressor's: `B` a buyer lifted the ask, `A` a seller
# hit the bid, `N` not said.
_AGGRESSOR: dict[str, Side] = {"B": "buy", "A": "sell"}


def aggressor_of(side: str) -> Side:
    """The aggressor of a Databento trade side (`B`, `A`, `N`)."""
    return _AGGRESSOR.get(side, "unknown")


def trade_of(event: Event) -> Trade | None:
    """The trade an event reports, else None. Crypto trades and the trades the book engine
    places (`BookTrade`, from MBO and MBP-10) are keyed by their market (`binance-spot`,
    `GLBX`) and symbol; equity prints, which every exchange of the consolidated tape prints,
    by their source (`databento`) and symbol."""
    if type(event) is CryptoTrade:
        return Trade(event.venue, event.symbol, event.ts_recv, event.ts_event, event.price,
                     event.size, event.side, event.sequence)  # fmt: skip
    if type(event) is BookTrade:
        return Trade(event.venue, event.symbol, event.ts_recv, event.ts_event, event.price,
                     event.size, aggressor_of(event.side), event.sequence)  # fmt: skip
    if type(event) is EquityPrint:
        return Trade(event.source, event.symbol, event.ts_recv, event.ts_event, event.price,
                     event.size, aggressor_of(event.side), event.sequence)  # fmt: skip
    return None
