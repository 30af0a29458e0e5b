"""Crypto depth: a snapshot replaces the book, diffs that continue the chain of update ids
set levels, a break clears the book and says so, and only a snapshot brings it back."""

from __future__ import annotations

from typing import Any

from compute.book import initial_state, step, view
from schemas.book import BookResync
from schemas.crypto import BookUpdate, ProviderGap
from schemas.events import PRICE_SCALE, Event
from tests.kit.book import l2
from tests.kit.crypto import book_update

VENUE, SYMBOL = "binance-spot", "BTC-USDT"
P = PRICE_SCALE


def snapshot(last: int) -> BookUpdate:
    return book_update(
        snapshot=True, sequence=last, first_update_id=last,
        bid_px=[100 * P, 99 * P], bid_sz=[5, 6], ask_px=[101 * P, 102 * P], ask_sz=[7, 8],
    )  # fmt: skip


def diff(first: int, last: int, **fields: Any) -> BookUpdate:
    values: dict[str, Any] = dict(
        snapshot=False, first_update_id=first, sequence=last,
        bid_px=[100 * P], bid_sz=[1], ask_px=[101 * P], ask_sz=[0],
    )  # fmt: skip
    return book_update(**(values | fields))


def run(*events: Event) -> tuple[Any, list[Event]]:
    return step(initial_state(), list(events))


def test_a_snapshot_then_a_bridging_diff_then_a_continuing_one() -> None:
    state, out = run(
        snapshot(100),
        diff(95, 103),  # spans 101: Binance's first diff after a snapshot
        diff(104, 104, bid_px=[98 * P], bid_sz=[2], ask_px=[], ask_sz=[]),
    )
    assert out == []
    assert l2(state, VENUE, SYMBOL) == (
        ((100 * P, 1, 0), (99 * P, 6, 0), (98 * P, 2, 0)),
        ((102 * P, 8, 0),),
    )


def test_a_skipped_update_id_clears_the_book_and_says_so_until_the_next_snapshot() -> None:
    state, out = run(snapshot(100), diff(101, 101), diff(105, 106))
    assert out == [BookResync(diff(105, 106).ts_recv, VENUE, SYMBOL, 101, 105, None, 106)]
    shown = view(state, VENUE, SYMBOL, 5)
    assert shown is not None and not shown.in_sync and not shown.usable
    assert (shown.bids, shown.asks) == ([], [])
    state, out = step(state, [diff(107, 107)])
    assert out == [] and state.counters["depth_update_out_of_sync"] == 1
    state, _ = step(state, [snapshot(200)])
    shown = view(state, VENUE, SYMBOL, 5)
    assert shown is not None and shown.in_sync and shown.bids[0].size == 5


def test_futures_chain_on_the_previous_update_id() -> None:
    state, out = run(snapshot(100), diff(99, 102), diff(110, 111, prev_update_id=102))
    assert out == [] and l2(state, VENUE, SYMBOL)[0][0] == (100 * P, 1, 0)
    state, out = step(state, [diff(112, 113, prev_update_id=112)])
    assert [type(e) for e in out] == [BookResync]


def test_a_futures_first_diff_may_start_past_the_snapshot_when_it_names_it_as_previous() -> None:
    # Futures update ids are shared by all symbols: this symbol's next diff begins at 130.
    state, out = run(snapshot(100), diff(130, 140, prev_update_id=100))
    assert out == [] and l2(state, VENUE, SYMBOL)[0][0] == (100 * P, 1, 0)
    state, out = step(state, [diff(150, 160, prev_update_id=139)])
    assert [type(e) for e in out] == [BookResync]


def test_a_repeated_diff_is_skipped_and_counted() -> None:
    state, out = run(snapshot(100), diff(101, 101), diff(101, 101, bid_sz=[9]))
    assert out == [] and l2(state, VENUE, SYMBOL)[0][0] == (100 * P, 1, 0)
    assert state.counters["depth_update_stale"] == 1


def test_a_gap_the_provider_reports_puts_the_book_out_of_sync() -> None:
    gap = ProviderGap(
        ts_recv=1, source="binance", venue=VENUE, symbol=SYMBOL, reason="backpressure"
    )
    state, _ = run(snapshot(100), gap)
    shown = view(state, VENUE, SYMBOL, 5)
    assert shown is not None and not shown.in_sync and shown.bids == []
