"""The LO quotes, checked on the decoded files against an independent Black-76 and the smile
the labels state."""

from __future__ import annotations

import numpy as np
import pytest

from synth.cme_labels import CmeSecondLabel

from .conftest import SMALL
from .reference import YEAR_NS, black76, implied_vol, smile

CENT = 10_000_000
E9 = 1_000_000_000
MS = 1_000_000


def _options(arrays: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The option quotes of mbp-1, and the option definitions."""
    defs = arrays["definition"]
    option_defs = defs[defs["instrument_class"] != b"F"]
    top = arrays["mbp-1"]
    return top[np.isin(top["instrument_id"], option_defs["instrument_id"])], option_defs


def _future_mids(arrays: dict[str, np.ndarray], future_id: int) -> tuple[np.ndarray, np.ndarray]:
    top = arrays["mbp-1"]
    rows = top[top["instrument_id"] == future_id]
    mid = (rows["bid_px_00"].astype(np.int64) + rows["ask_px_00"].astype(np.int64)) / 2 / E9
    return rows["ts_recv"].astype(np.int64), mid


def test_every_option_quote_is_two_sided_uncrossed_on_the_cent_with_a_few_cents_spread(
    cme_arrays: dict[str, np.ndarray],
) -> None:
    quotes, _ = _options(cme_arrays)
    bid, ask = quotes["bid_px_00"].astype(np.int64), quotes["ask_px_00"].astype(np.int64)
    assert len(quotes) > 20_000
    assert np.all(bid >= CENT) and np.all(bid < ask)
    assert np.all(bid % CENT == 0) and np.all(ask % CENT == 0)
    assert set(np.unique(ask - bid).tolist()) <= {k * CENT for k in range(1, 7)}
    assert np.all(quotes["bid_sz_00"] > 0) and np.all(quotes["ask_sz_00"] > 0)
    named = np.where(quotes["side"] == b"B", bid, ask)
    assert np.array_equal(quotes["price"].astype(np.int64), named)


def _priced_quotes(quotes: np.ndarray) -> np.ndarray:
    """Each option's first quote and every quote whose prices differ from the one before it
    (the others only change sizes and carry the prices of the last of these)."""
    order = np.lexsort((quotes["ts_recv"], quotes["instrument_id"]))
    q = quotes[order]
    start = np.ones(len(q), dtype=bool)
    start[1:] = (
        (q["instrument_id"][1:] != q["instrument_id"][:-1])
        | (q["bid_px_00"][1:] != q["bid_px_00"][:-1])
        | (q["ask_px_00"][1:] != q["ask_px_00"][:-1])
    )
    return q[start]


def _label_columns(labels: list[CmeSecondLabel], t: np.ndarray, expiry: np.ndarray):
    """The smile parameters in force at each time: they step at each half second, so the
    label of the nearest whole second states them."""
    index = np.clip((t - labels[0].ts + E9 // 2) // E9, 0, len(labels) - 1)
    table = np.array(
        [[(e.smile_atm, e.smile_skew, e.smile_curv) for e in label.expiries] for label in labels]
    )
    params = table[index, expiry]
    return params[:, 0], params[:, 1], params[:, 2]


def test_each_quote_mid_resolves_to_the_smile_within_the_rounding_to_a_half_cent(
    cme_arrays: dict[str, np.ndarray], cme_labels: list[CmeSecondLabel]
) -> None:
    quotes, defs = _options(cme_arrays)
    q = _priced_quotes(quotes)
    by_id = {int(d["instrument_id"]): d for d in defs}
    expirations = sorted({int(d["expiration"]) for d in defs})
    d = [by_id[int(i)] for i in q["instrument_id"]]
    strike = np.array([x["strike_price"] for x in d]) / E9
    call = np.array([x["instrument_class"] == b"C" for x in d])
    expiry = np.array([expirations.index(int(x["expiration"])) for x in d])
    t = q["ts_recv"].astype(np.int64)
    years = (np.array([x["expiration"] for x in d], dtype=np.int64) - t) / YEAR_NS
    forward = np.empty(len(q))
    for future_id in np.unique([x["underlying_id"] for x in d]):
        mine = np.array([x["underlying_id"] == future_id for x in d])
        ts, mids = _future_mids(cme_arrays, int(future_id))
        forward[mine] = mids[np.searchsorted(ts, t[mine], side="right") - 1]
    atm, skew, curv = _label_columns(cme_labels, t, expiry)
    vol = smile(atm, skew, curv, np.log(strike / forward))

    bid, ask = q["bid_px_00"] / E9, q["ask_px_00"] / E9
    mid = (bid + ask) / 2
    value = black76(forward, strike, years, vol, SMALL.rate, call)
    floored = q["bid_px_00"] == CENT  # a bid held at one cent is not the mid's rounding
    assert np.count_nonzero(floored) < 0.02 * len(q)
    assert np.all((bid[floored] <= value[floored]) & (value[floored] <= ask[floored]))
    fair = ~floored
    assert np.all(np.abs(mid[fair] - value[fair]) <= 0.0025 + 1e-9)
    # so the smile's vol lies between the vols of the mid minus and plus a quarter cent
    f, k, y, c = forward[fair], strike[fair], years[fair], call[fair]
    low = implied_vol(mid[fair] - 0.0025 - 1e-9, f, k, y, SMALL.rate, c)
    high = implied_vol(mid[fair] + 0.0025 + 1e-9, f, k, y, SMALL.rate, c)
    assert np.all((low <= vol[fair] + 1e-9) & (vol[fair] <= high + 1e-9))
    # and near the money the mid's own vol is the smile's within a twentieth of a vol point
    solved = implied_vol(mid[fair], f, k, y, SMALL.rate, c)
    near = np.abs(np.log(k / f)) < 0.05
    assert near.sum() > 1_000
    assert np.max(np.abs(solved[near] - vol[fair][near])) < 0.0005


@pytest.mark.parametrize("window", range(len(SMALL.quiet_windows or [])))
def test_quiet_windows_hold_no_option_quote_change_then_every_option_is_quoted(
    cme_arrays: dict[str, np.ndarray], cme_labels: list[CmeSecondLabel], window: int
) -> None:
    quotes, defs = _options(cme_arrays)
    open_ns = cme_labels[0].ts
    start_s, length_s = sorted(SMALL.quiet_windows or [])[window]
    start, end = open_ns + start_s * E9, open_ns + (start_s + length_s) * E9
    ts = quotes["ts_recv"].astype(np.int64)
    assert not np.any((ts >= start) & (ts < end))
    assert np.any((ts >= start - E9) & (ts < start))  # lively right up to it
    refresh = quotes[(ts >= end) & (ts < end + MS)]
    assert set(refresh["instrument_id"].tolist()) == set(defs["instrument_id"].tolist())
    futures = cme_arrays["mbp-10"]["ts_recv"].astype(np.int64)
    assert np.count_nonzero((futures >= start) & (futures < end)) > 10 * length_s
    quiet = [label.ts for label in cme_labels if label.quiet]
    assert [t for t in quiet if start <= t < end] == list(range(start, end, E9))


def test_quotes_follow_each_move_of_their_future_within_a_millisecond(
    cme_arrays: dict[str, np.ndarray], cme_labels: list[CmeSecondLabel]
) -> None:
    quotes, defs = _options(cme_arrays)
    open_ns = cme_labels[0].ts
    windows = [(open_ns + s * E9, open_ns + (s + n) * E9) for s, n in SMALL.quiet_windows or []]
    for future_id in np.unique(defs["underlying_id"]):
        listed = defs["instrument_id"][defs["underlying_id"] == future_id]
        chain = quotes[np.isin(quotes["instrument_id"], listed)]
        chain_ts = chain["ts_recv"].astype(np.int64)
        ts, mids = _future_mids(cme_arrays, int(future_id))
        moves = ts[1:][mids[1:] != mids[:-1]]
        moves = moves[[not any(a - MS <= m < b for a, b in windows) for m in moves]]
        assert len(moves) > 20
        after = np.searchsorted(chain_ts, moves, side="right")
        assert np.all(chain_ts[np.minimum(after, len(chain_ts) - 1)] - moves <= MS)
