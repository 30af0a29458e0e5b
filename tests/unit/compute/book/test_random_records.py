"""Arbitrary MBO records, sensible or not (unknown ids, missing sides and prices, cancels of
more than an order holds, side changes, top-of-book records, clears), never crash the
engine, and its book always equals a plain reference model written here from Databento's
rules: resting orders in a dict, levels summed from them on demand."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from compute.book import initial_state, step
from schemas.book import F_TOB, MboRecord
from tests.kit.book import l2, mbo_event

PRICES = [None, *(100_000_000_000 + tick * 250_000_000 for tick in range(-4, 5))]


def records(flags: st.SearchStrategy[int]) -> st.SearchStrategy[MboRecord]:
    return st.builds(
        MboRecord,
        ts_event=st.just(1),
        sequence=st.just(1),
        action=st.sampled_from("AAACCMMRTFN"),
        side=st.sampled_from("BBAAN"),
        price=st.sampled_from(PRICES),
        size=st.integers(0, 12),
        order_id=st.integers(1, 12),
        flags=flags,
    )


# A publisher sends individual orders or top-of-book records, never both for one book.
sessions = st.sampled_from([0, F_TOB]).flatmap(
    lambda flag: st.lists(st.lists(records(st.just(flag)), min_size=1, max_size=4), max_size=40)
)


class Reference:
    """Databento's rules over a dict of orders, plus the top-of-book levels per side."""

    def __init__(self) -> None:
        self.orders: dict[int, tuple[str, int, int]] = {}
        self.tob: dict[str, tuple[int, int] | None] = {}

    def apply(self, r: MboRecord) -> None:
        if r.action == "R":
            self.orders.clear()
            self.tob.clear()
        elif r.action == "A" and r.side in "BA" and r.flags & F_TOB:
            self.orders = {k: o for k, o in self.orders.items() if o[0] != r.side}
            self.tob[r.side] = None if r.price is None else (r.price, r.size)
        elif r.action == "A" and r.side in "BA" and r.price is not None:
            self.orders.pop(r.order_id, None)
            if r.size > 0:
                self.orders[r.order_id] = (r.side, r.price, r.size)
        elif r.action == "C" and r.order_id in self.orders:
            side, price, size = self.orders[r.order_id]
            if r.size >= size:
                del self.orders[r.order_id]
            else:
                self.orders[r.order_id] = (side, price, size - r.size)
        elif r.action == "M" and r.order_id not in self.orders:
            self.apply(MboRecord(r.ts_event, r.sequence, "A", r.side, r.price, r.size,
                                 r.order_id, r.flags))  # fmt: skip
        elif r.action == "M" and r.price is not None:
            side = r.side if r.side in "BA" else self.orders[r.order_id][0]
            del self.orders[r.order_id]
            if r.size > 0:
                self.orders[r.order_id] = (side, r.price, r.size)

    def side(self, side: str) -> tuple[tuple[int, int, int], ...]:
        levels: dict[int, list[int]] = {}
        top = self.tob.get(side)
        if top is not None:
            levels[top[0]] = [top[1], 0]
        for order_side, price, size in self.orders.values():
            if order_side == side:
                level = levels.setdefault(price, [0, 0])
                level[0] += size
                level[1] += 1
        ordered = sorted(levels, reverse=side == "B")
        return tuple((p, levels[p][0], levels[p][1]) for p in ordered)


@settings(max_examples=300, deadline=None)
@given(sessions)
def test_any_records_leave_the_book_the_reference_model_holds(
    events: list[list[MboRecord]],
) -> None:
    state = initial_state()
    reference = Reference()
    for event in events:
        state, _ = step(state, [mbo_event(*event)])
        for record in event:
            reference.apply(record)
        assert l2(state) == (reference.side("B"), reference.side("A"))
        assert state.books["GLBX|ESH1"].complete


@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(records(st.sampled_from([0, 0, F_TOB])), min_size=1, max_size=4)))
def test_records_of_both_kinds_mixed_in_one_book_never_crash_it(
    events: list[list[MboRecord]],
) -> None:
    state, _ = step(initial_state(), [mbo_event(*event) for event in events])
    for book in state.books.values():
        for levels in (book.bids, book.asks):
            assert all(size >= 0 and orders >= 0 for size, orders in levels.values())
        assert book.best_bid == (max(book.bids) if book.bids else None)
        assert book.best_ask == (min(book.asks) if book.asks else None)
