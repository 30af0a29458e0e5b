"""Order-book event builders for tests: MBO and MBP-10 venue events by hand, and the L2 a
book engine state holds (as plain tuples, for comparison with a known book)."""

from __future__ import annotations

from compute.book import BookState, levels
from schemas.book import F_LAST, BookLevel, MboEvent, MboRecord, Mbp10Event, Mbp10Record

VENUE, SYMBOL = "GLBX", "ESH1"
T0 = 1_609_113_600_000_000_000
PX = 1_000_000_000  # one dollar at the 1e-9 scale

L2Side = tuple[tuple[int, int, int], ...]


def rec(action: str, side: str, price: float | None, size: int, order_id: int = 0,
        flags: int = 0) -> MboRecord:  # fmt: skip
    """One MBO record; `price` in dollars (None: undefined)."""
    return MboRecord(T0, 1, action, side, None if price is None else round(price * PX), size,
                     order_id, flags)  # fmt: skip


def mbo_event(*records: MboRecord, ts_recv: int = T0, symbol: str = SYMBOL,
              venue: str = VENUE, last: bool = True) -> MboEvent:  # fmt: skip
    """One venue event of the records given; the last one gets F_LAST unless `last=False`."""
    body = list(records)
    if last:
        tail = body[-1]
        body[-1] = MboRecord(tail.ts_event, tail.sequence, tail.action, tail.side, tail.price,
                             tail.size, tail.order_id, tail.flags | F_LAST)  # fmt: skip
    return MboEvent(
        ts_recv=ts_recv, ts_event=T0, publisher_id=1, instrument_id=5482, source="test",
        symbol=symbol, venue=venue, sequence=1, records=body,
    )  # fmt: skip


def mbp10_event(action: str, bids: list[tuple[float, int, int]], asks: list[tuple[float, int, int]],
                *, side: str = "N", price: float | None = None, size: int = 0,
                ts_recv: int = T0) -> Mbp10Event:  # fmt: skip
    """One single-record MBP-10 event with its levels (dollars, size, orders) as given."""
    record = Mbp10Record(
        T0, 1, action, side, 0, None if price is None else round(price * PX), size, F_LAST,
        [BookLevel(round(p * PX), s, c) for p, s, c in bids],
        [BookLevel(round(p * PX), s, c) for p, s, c in asks],
    )  # fmt: skip
    return Mbp10Event(
        ts_recv=ts_recv, ts_event=T0, publisher_id=1, instrument_id=5482, source="test",
        symbol=SYMBOL, venue=VENUE, sequence=1, records=[record],
    )  # fmt: skip


def l2(state: BookState, venue: str = VENUE, symbol: str = SYMBOL,
       depth: int = 10_000) -> tuple[L2Side, L2Side]:  # fmt: skip
    """The whole book (or its top `depth`) as ((price, size, orders), ...) per side."""
    found = levels(state, venue, symbol, depth)
    assert found is not None, f"no book {venue}/{symbol}"
    bids, asks = found
    return (
        tuple((lvl.price, lvl.size, lvl.orders) for lvl in bids),
        tuple((lvl.price, lvl.size, lvl.orders) for lvl in asks),
    )
