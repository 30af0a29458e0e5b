"""On synthetic sessions with a known book (synth.book), the engine's book after every event
is the truth, from MBO and from MBP-10 alike, and every trade is placed against the true
touch just before it."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.book import at_or_through_touch, initial_state, step
from schemas.book import BookTrade
from synth.book import MBP_DEPTH, BookSession, generate_book_session
from tests.kit.book import l2

sessions = st.builds(
    generate_book_session,
    seed=st.integers(0, 2**32 - 1),
    events=st.integers(1, 250),
    preopen_events=st.integers(0, 20),
)
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(sessions)
def test_the_mbo_book_after_every_event_is_the_true_book(session: BookSession) -> None:
    state = initial_state()
    for event, truth in zip(session.mbo, session.books, strict=True):
        state, _ = step(state, [event])
        assert l2(state, session.venue, session.symbol) == truth
    counters = state.counters
    assert counters.get("cancel_unknown_order", 0) == session.unknown_cancels
    assert counters.get("modify_unknown_order", 0) == session.unknown_modifies
    assert counters.get("clears", 0) == session.clears + 1  # and the snapshot's own clear
    assert counters.get("events_left_crossed", 0) == session.crossed_events


@SETTINGS
@given(sessions)
def test_rebuilding_from_mbo_and_reading_mbp10_agree_at_every_level(session: BookSession) -> None:
    from_mbo = initial_state()
    from_mbp = initial_state()
    for mbo, mbp, truth in zip(session.mbo, session.mbp10, session.books, strict=True):
        from_mbo, _ = step(from_mbo, [mbo])
        from_mbp, _ = step(from_mbp, [mbp])
        top = l2(from_mbo, session.venue, session.symbol, MBP_DEPTH)
        assert top == l2(from_mbp, session.venue, session.symbol)
        assert top == (truth[0][:MBP_DEPTH], truth[1][:MBP_DEPTH])


def placed(trades: list[BookTrade]) -> list[tuple[object, ...]]:
    return [(t.ts_recv, t.price, t.size, t.side, t.bid_px, t.ask_px, t.bid_sz, t.ask_sz)
            for t in trades]  # fmt: skip


@SETTINGS
@given(sessions)
def test_every_trade_is_placed_against_the_true_touch_just_before_it(
    session: BookSession,
) -> None:
    truth = [(t.ts_recv, t.price, t.size, t.side, t.bid_px, t.ask_px, t.bid_sz, t.ask_sz)
             for t in session.trades]  # fmt: skip
    _, from_mbo = step(initial_state(), session.mbo)
    _, from_mbp = step(initial_state(), session.mbp10)
    assert placed(from_mbo) == truth  # type: ignore[arg-type]
    assert placed(from_mbp) == truth  # type: ignore[arg-type]


@SETTINGS
@given(sessions)
def test_every_aggressor_trade_is_at_or_through_the_touch_it_hit(session: BookSession) -> None:
    _, trades = step(initial_state(), session.mbo)
    for trade in trades:
        assert isinstance(trade, BookTrade)
        assert at_or_through_touch(trade) is True
