"""Queries on a book: top levels in order, imbalance as an exact integer ratio, MBP-10 levels
as given."""

from __future__ import annotations

from compute.book import IMBALANCE_SCALE, best_bid_ask, imbalance, initial_state, levels, step
from schemas.book import BookLevel
from tests.kit.book import PX, SYMBOL, VENUE, l2, mbo_event, mbp10_event, rec


def book_of(*records):  # type: ignore[no-untyped-def]
    state, _ = step(initial_state(), [mbo_event(*records)])
    return state


def test_levels_come_bids_highest_first_and_asks_lowest_first_cut_at_depth() -> None:
    state = book_of(
        rec("A", "B", 99.0, 1, 1), rec("A", "B", 100.0, 2, 2), rec("A", "B", 98.0, 3, 3),
        rec("A", "A", 102.0, 4, 4), rec("A", "A", 101.0, 5, 5), rec("A", "A", 103.0, 6, 6),
    )  # fmt: skip
    found = levels(state, VENUE, SYMBOL, 2)
    assert found == (
        [BookLevel(100 * PX, 2, 1), BookLevel(99 * PX, 1, 1)],
        [BookLevel(101 * PX, 5, 1), BookLevel(102 * PX, 4, 1)],
    )
    touch = best_bid_ask(state, VENUE, SYMBOL)
    assert touch is not None
    assert (touch.bid, touch.ask, touch.crossed) == (
        BookLevel(100 * PX, 2, 1), BookLevel(101 * PX, 5, 1), False,
    )  # fmt: skip


def test_imbalance_is_bid_minus_ask_over_their_sum_in_ten_thousandths() -> None:
    state = book_of(
        rec("A", "B", 100.0, 30, 1), rec("A", "B", 99.0, 10, 2), rec("A", "A", 101.0, 20, 3),
        rec("A", "A", 102.0, 100, 4),
    )  # fmt: skip
    assert imbalance(state, VENUE, SYMBOL, 1) == 2_000  # (30 - 20) / 50
    assert imbalance(state, VENUE, SYMBOL, 2) == -5_000  # (40 - 120) / 160
    only_bids = book_of(rec("A", "B", 100.0, 3, 1))
    assert imbalance(only_bids, VENUE, SYMBOL, 5) == IMBALANCE_SCALE


def imbalance_of(bid_size: int, ask_size: int) -> int | None:
    state = book_of(rec("A", "B", 1.0, bid_size, 1), rec("A", "A", 2.0, ask_size, 2))
    return imbalance(state, VENUE, SYMBOL, 1)


def test_imbalance_rounds_half_away_from_zero_exactly() -> None:
    assert imbalance_of(2, 1) == 3_333  # 3333.33...
    assert imbalance_of(5, 1) == 6_667  # 6666.66...
    assert imbalance_of(1, 2) == -3_333
    assert imbalance_of(20_001, 19_999) == 1  # exactly 0.5
    assert imbalance_of(19_999, 20_001) == -1


def test_an_unknown_book_or_an_empty_one_answers_none() -> None:
    state = initial_state()
    assert best_bid_ask(state, VENUE, SYMBOL) is None
    assert levels(state, VENUE, SYMBOL, 5) is None
    assert imbalance(state, VENUE, SYMBOL, 5) is None
    emptied = book_of(rec("A", "B", 1.0, 1, 1), rec("C", "B", 1.0, 1, 1))
    assert imbalance(emptied, VENUE, SYMBOL, 5) is None


def test_an_mbp10_book_is_its_levels_as_given_and_a_trade_record_leaves_it_alone() -> None:
    state, out = step(initial_state(), [
        mbp10_event("A", [(100.0, 5, 2), (99.75, 1, 1)], [(100.25, 3, 3)]),
        mbp10_event("T", [(100.0, 5, 2)], [(100.25, 3, 3)], side="B", price=100.25, size=2),
    ])  # fmt: skip
    assert l2(state) == (((100 * PX, 5, 2), (99_750_000_000, 1, 1)), ((100_250_000_000, 3, 3),))
    assert [(t.price, t.side, t.bid_px, t.ask_px, t.bid_sz, t.ask_sz) for t in out] == [  # type: ignore[attr-defined]
        (100_250_000_000, "B", 100 * PX, 100_250_000_000, 5, 3)
    ]
    state, _ = step(state, [mbp10_event("C", [(99.75, 1, 1)], [])])
    assert l2(state) == (((99_750_000_000, 1, 1),), ())
