"""The CL books and trades, checked on the decoded MBP-10, MBP-1 and trades files."""

from __future__ import annotations

from collections import Counter

import databento_dbn as dbn
import numpy as np

CENT = 10_000_000
LEVELS = range(10)


def _levels(book: np.ndarray, side: str, field: str) -> np.ndarray:
    return np.stack([book[f"{side}_{field}_{i:02d}"].astype(np.int64) for i in LEVELS], axis=1)


def test_every_book_has_ten_contiguous_levels_a_side_never_crossed(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    book = cme_arrays["mbp-10"]
    bids, asks = _levels(book, "bid", "px"), _levels(book, "ask", "px")
    assert np.all(np.diff(bids, axis=1) == -CENT)
    assert np.all(np.diff(asks, axis=1) == CENT)
    assert np.all(bids[:, 0] < asks[:, 0])
    assert np.all(_levels(book, "bid", "sz") >= 1) and np.all(_levels(book, "ask", "sz") >= 1)
    # one tick wide after every whole event; wider only inside a move (between its records)
    last = (book["flags"] & dbn.F_LAST) != 0
    assert np.all(asks[last, 0] - bids[last, 0] == CENT)
    assert len(np.unique(_levels(book, "ask", "sz"))) > 30  # sizes vary


def test_trades_print_at_the_touch_they_take_and_leave_it_smaller_or_gone(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    book = cme_arrays["mbp-10"]
    seen = Counter()
    for instrument in np.unique(book["instrument_id"]):
        rows = book[book["instrument_id"] == instrument]
        for i in np.flatnonzero(rows["action"] == b"T"):
            trade, after = rows[i], rows[i + 1]
            taken = "ask" if trade["side"] == b"B" else "bid"
            assert trade["side"] in (b"B", b"A")
            assert trade["price"] == trade[f"{taken}_px_00"]
            assert 1 <= trade["size"] <= trade[f"{taken}_sz_00"]
            if trade["size"] < trade[f"{taken}_sz_00"]:
                assert after[f"{taken}_px_00"] == trade["price"]
                assert after[f"{taken}_sz_00"] == trade[f"{taken}_sz_00"] - trade["size"]
                seen["partial"] += 1
            else:
                assert after[f"{taken}_px_00"] != trade["price"]  # the level is gone
                seen["through"] += 1
            seen[trade["side"]] += 1
    assert min(seen.values()) > 50, seen


def test_trades_and_top_of_book_are_the_mbp10_records_they_come_from(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    book = cme_arrays["mbp-10"]
    by_sequence = {int(s): r for s, r in zip(book["sequence"], book, strict=True)}
    trades = cme_arrays["trades"]
    assert np.array_equal(trades["sequence"], book["sequence"][book["action"] == b"T"])
    for name in ("instrument_id", "ts_event", "ts_recv", "price", "size", "side", "action"):
        assert np.array_equal(trades[name], book[name][book["action"] == b"T"]), name
    top = cme_arrays["mbp-1"]
    top = top[np.isin(top["instrument_id"], book["instrument_id"])]
    assert len(top) == np.count_nonzero(book["depth"] == 0)
    for r in top:
        source = by_sequence[int(r["sequence"])]
        for name in ("bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "price", "action"):
            assert r[name] == source[name], name


def test_only_the_last_record_of_an_event_carries_f_last(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    book = cme_arrays["mbp-10"]
    same_event = (book["instrument_id"][1:] == book["instrument_id"][:-1]) & (
        book["ts_recv"][1:] == book["ts_recv"][:-1]
    )
    last = (book["flags"] & dbn.F_LAST) != 0
    assert np.all(last[:-1] == ~same_event) and last[-1]
    assert np.count_nonzero(same_event) > 100  # moves and trades span several records


def test_the_curve_moves_on_the_tick_grid_front_month_busiest(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    book = cme_arrays["mbp-10"]
    counts = Counter(book["instrument_id"].tolist())
    ids = sorted(counts)
    assert counts[ids[0]] > counts[ids[1]] > counts[ids[2]]
    front = book[book["instrument_id"] == ids[0]]
    mids = (front["bid_px_00"].astype(np.int64) + front["ask_px_00"]) // 2
    assert np.all(mids % (CENT // 2) == 0)
    assert len(np.unique(mids)) > 5
