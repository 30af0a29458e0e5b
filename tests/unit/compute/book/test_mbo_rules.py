"""Databento's MBO rules on hand-built events, each book checked against a hand count."""

from __future__ import annotations

from compute.book import BookState, best_bid_ask, initial_state, step, view
from schemas.book import F_MAYBE_BAD_BOOK, F_SNAPSHOT, F_TOB, BookTrade
from schemas.events import Event
from tests.kit.book import PX, SYMBOL, VENUE, l2, mbo_event, mbp10_event, rec
from tests.kit.events import heartbeat


def run(*events: Event) -> tuple[BookState, list[Event]]:
    return step(initial_state(), list(events))


def test_adds_aggregate_into_levels_with_size_and_order_count() -> None:
    state, _ = run(
        mbo_event(
            rec("A", "B", 100.0, 5, 1), rec("A", "B", 100.0, 3, 2), rec("A", "B", 99.5, 1, 3)
        ),
        mbo_event(rec("A", "A", 101.0, 4, 4), rec("A", "A", 100.5, 2, 5)),
    )
    assert l2(state) == (
        ((100 * PX, 8, 2), (99_500_000_000, 1, 1)),
        ((100_500_000_000, 2, 1), (101 * PX, 4, 1)),
    )


def test_partial_and_full_cancels_reduce_then_close_the_level() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 100.0, 5, 1), rec("A", "B", 100.0, 3, 2)),
        mbo_event(rec("C", "B", 100.0, 2, 1)),
    )
    assert l2(state)[0] == ((100 * PX, 6, 2),)
    state, _ = step(state, [mbo_event(rec("C", "B", 100.0, 3, 1), rec("C", "B", 100.0, 3, 2))])
    assert l2(state) == ((), ())
    touch = best_bid_ask(state, VENUE, SYMBOL)
    assert touch is not None and touch.bid is None and touch.ask is None


def test_a_cancel_of_an_unknown_order_is_counted_and_changes_nothing() -> None:
    state, _ = run(mbo_event(rec("A", "B", 100.0, 5, 1)), mbo_event(rec("C", "B", 100.0, 5, 77)))
    assert l2(state)[0] == ((100 * PX, 5, 1),)
    assert state.counters["cancel_unknown_order"] == 1


def test_a_cancel_of_more_than_the_order_holds_removes_it_and_is_counted() -> None:
    state, _ = run(mbo_event(rec("A", "A", 100.0, 5, 1)), mbo_event(rec("C", "A", 100.0, 9, 1)))
    assert l2(state) == ((), ())
    assert state.counters["cancel_over_size"] == 1


def test_modify_moves_price_and_size_and_an_unknown_order_is_added() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 100.0, 5, 1), rec("A", "B", 100.0, 1, 2)),
        mbo_event(rec("M", "B", 99.0, 7, 1)),  # to another price
        mbo_event(rec("M", "B", 100.0, 4, 2)),  # larger size, same price
        mbo_event(rec("M", "A", 102.0, 3, 9)),  # unknown: Databento adds it
    )
    assert l2(state) == (((100 * PX, 4, 1), (99 * PX, 7, 1)), ((102 * PX, 3, 1),))
    assert state.counters["modify_unknown_order"] == 1


def test_a_modify_to_size_zero_removes_the_order() -> None:
    state, _ = run(mbo_event(rec("A", "B", 100.0, 5, 1)), mbo_event(rec("M", "B", 100.0, 0, 1)))
    assert l2(state) == ((), ())


def test_an_add_of_a_resting_order_id_replaces_it_and_is_counted() -> None:
    state, _ = run(mbo_event(rec("A", "B", 100.0, 5, 1)), mbo_event(rec("A", "B", 98.0, 2, 1)))
    assert l2(state)[0] == ((98 * PX, 2, 1),)
    assert state.counters["add_existing_order"] == 1


def test_a_clear_empties_the_book_and_the_snapshot_after_it_rebuilds_it() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 100.0, 5, 1), rec("A", "A", 101.0, 5, 2)),
        mbo_event(
            rec("R", "N", None, 0, 0, F_SNAPSHOT),
            rec("A", "B", 99.0, 1, 3, F_SNAPSHOT),
            rec("A", "A", 103.0, 2, 4, F_SNAPSHOT),
            last=False,
        ),
    )
    assert l2(state) == (((99 * PX, 1, 1),), ((103 * PX, 2, 1),))
    shown = view(state, VENUE, SYMBOL, 5)
    assert shown is not None and shown.snapshot and not shown.complete and not shown.usable
    state, _ = step(state, [mbo_event(rec("A", "B", 99.0, 1, 5))])
    shown = view(state, VENUE, SYMBOL, 5)
    assert shown is not None and shown.usable and shown.bids[0].size == 2
    assert state.counters["clears"] == 1


def test_a_snapshot_ending_with_f_last_leaves_a_usable_book() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 99.0, 1, 3, F_SNAPSHOT), rec("A", "A", 103.0, 2, 4, F_SNAPSHOT))
    )
    shown = view(state, VENUE, SYMBOL, 5)
    assert shown is not None and shown.snapshot and shown.complete and shown.usable


def test_a_snapshot_without_a_clear_still_replaces_the_whole_book() -> None:
    # As a day's file starts: snapshot adds, no clear. An order of the day before that the
    # snapshot does not hold is gone; one it holds again is not counted twice.
    for day_before in (
        mbo_event(rec("A", "B", 100.0, 5, 1), rec("A", "A", 101.0, 5, 2)),
        mbo_event(rec("A", "B", 100.0, 5, 1, F_SNAPSHOT), rec("A", "A", 101.0, 5, 2, F_SNAPSHOT)),
    ):
        state, _ = run(
            day_before,
            mbo_event(
                rec("A", "B", 100.0, 5, 1, F_SNAPSHOT), rec("A", "A", 102.0, 3, 7, F_SNAPSHOT)
            ),
        )
        assert l2(state) == (((100 * PX, 5, 1),), ((102 * PX, 3, 1),))
        assert "add_existing_order" not in state.counters


def test_a_snapshot_left_unfinished_by_one_event_continues_in_the_next() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 100.0, 5, 1, F_SNAPSHOT), last=False),
        mbo_event(rec("A", "A", 102.0, 3, 7, F_SNAPSHOT)),
    )
    assert l2(state) == (((100 * PX, 5, 1),), ((102 * PX, 3, 1),))
    assert state.counters["snapshots"] == 1


def test_trades_and_fills_do_not_change_the_book_and_a_trade_is_placed_before_its_cancels() -> None:
    state, out = run(
        mbo_event(
            rec("A", "A", 101.0, 2, 1), rec("A", "A", 101.25, 4, 2), rec("A", "B", 100.0, 7, 3)
        ),
        # A buy sweep: both trade records first, then fill and cancel per resting order.
        mbo_event(
            rec("T", "B", 101.0, 2),
            rec("T", "B", 101.25, 1),
            rec("F", "A", 101.0, 2, 1),
            rec("C", "A", 101.0, 2, 1),
            rec("F", "A", 101.25, 1, 2),
            rec("C", "A", 101.25, 1, 2),
        ),  # fmt: skip
    )
    assert l2(state) == (((100 * PX, 7, 1),), ((101_250_000_000, 3, 1),))
    assert all(isinstance(trade, BookTrade) for trade in out)
    assert [(t.price, t.size, t.side, t.bid_px, t.ask_px, t.bid_sz, t.ask_sz) for t in out] == [
        (101 * PX, 2, "B", 100 * PX, 101 * PX, 7, 2),
        (101_250_000_000, 1, "B", 100 * PX, 101 * PX, 7, 2),  # the deeper print lands through
    ]


def test_a_crossed_pre_open_book_is_kept_and_marked() -> None:
    state, out = run(mbo_event(rec("A", "B", 101.0, 1, 1), rec("A", "A", 100.0, 1, 2)))
    assert l2(state) == (((101 * PX, 1, 1),), ((100 * PX, 1, 1),))
    touch = best_bid_ask(state, VENUE, SYMBOL)
    assert touch is not None and touch.crossed
    assert state.counters["events_left_crossed"] == 1
    _, out = step(state, [mbo_event(rec("T", "N", 100.5, 1))])
    assert out[0].crossed  # type: ignore[attr-defined]


def test_a_top_of_book_add_replaces_its_side_and_an_undefined_one_empties_it() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 100.0, 5, 0, F_TOB)),
        mbo_event(rec("A", "B", 100.5, 2, 0, F_TOB)),
    )
    assert l2(state)[0] == ((100_500_000_000, 2, 0),)
    state, _ = step(state, [mbo_event(rec("A", "B", None, 0, 0, F_TOB))])
    assert l2(state)[0] == ()


def test_an_unrecoverable_gap_marks_the_book_until_the_next_clear() -> None:
    state, _ = run(mbo_event(rec("A", "B", 100.0, 5, 1, F_MAYBE_BAD_BOOK)))
    shown = view(state, VENUE, SYMBOL, 1)
    assert shown is not None and shown.maybe_bad and not shown.usable
    state, _ = step(state, [mbo_event(rec("R", "N", None, 0, 0))])
    shown = view(state, VENUE, SYMBOL, 1)
    assert shown is not None and not shown.maybe_bad


def test_records_without_a_side_or_price_are_counted_not_applied() -> None:
    state, _ = run(mbo_event(rec("A", "N", 100.0, 5, 1), rec("A", "B", None, 5, 2)))
    assert l2(state) == ((), ())
    assert state.counters["no_side"] == 1 and state.counters["undefined_price"] == 1


def test_a_book_keeps_to_the_first_feed_that_names_it() -> None:
    state, _ = run(
        mbo_event(rec("A", "B", 100.0, 5, 1)),
        mbp10_event("A", [(99.0, 1, 1)], []),
    )
    assert l2(state)[0] == ((100 * PX, 5, 1),)
    assert state.counters["ignored_other_feed:mbp10"] == 1


def test_events_of_other_systems_are_counted_and_passed_over() -> None:
    state, out = run(heartbeat())
    assert out == [] and state.counters["ignored:Heartbeat"] == 1
