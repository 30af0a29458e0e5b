"""The labels: recomputed by brute force from the smile they state, and read off the quotes
the way an alpha engine would (within its 0.15 vol point budget)."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from synth.cme_labels import SESSION_FILE, CmeSecondLabel, read_truth

from .conftest import SMALL
from .reference import YEAR_NS, forward_delta, implied_vol, smile

E9 = 1_000_000_000
CENT = 10_000_000


def _future_ids(defs: np.ndarray) -> dict[str, int]:
    """Raw symbol -> instrument id of the futures among the definitions."""
    futures = defs[defs["instrument_class"] == b"F"]
    return {r["raw_symbol"].decode(): int(r["instrument_id"]) for r in futures}


def test_one_label_per_whole_second_from_open_to_close(cme_labels: list[CmeSecondLabel]) -> None:
    ts = [label.ts for label in cme_labels]
    assert ts == list(range(ts[0], ts[0] + SMALL.minutes * 60 * E9 + 1, E9))
    assert ts[0] % E9 == 0
    assert {label.front_symbol for label in cme_labels} == {"CLJ5"}


def test_labels_agree_with_the_definitions_and_the_futures_mids(
    cme_labels: list[CmeSecondLabel], cme_arrays: dict[str, np.ndarray]
) -> None:
    defs = cme_arrays["definition"]
    futures = _future_ids(defs)
    top = cme_arrays["mbp-1"]
    for label in cme_labels[::7]:
        assert label.cme_fwd_mid == label.expiries[0].forward
        assert label.atm_iv == label.expiries[0].atm_iv and label.rr25 == label.expiries[0].rr25
        assert label.iv_term_slope == label.expiries[1].atm_iv - label.expiries[0].atm_iv
        for e in label.expiries:
            options = defs[defs["underlying_id"] == futures[e.underlying_symbol]]
            assert set(options["expiration"].tolist()) == {e.expiration}
            assert e.time_to_expiry == (e.expiration - label.ts) / YEAR_NS
            rows = top[(top["instrument_id"] == futures[e.underlying_symbol])
                       & (top["ts_recv"] <= label.ts)]  # fmt: skip
            assert e.forward == (int(rows["bid_px_00"][-1]) + int(rows["ask_px_00"][-1])) // 2


def test_rr25_and_atm_match_a_brute_force_scan_of_the_smile(
    cme_labels: list[CmeSecondLabel],
) -> None:
    k = np.linspace(-0.6, 0.6, 120_001)
    checked = 0
    for label in cme_labels[::15]:
        for e in label.expiries:
            vol = smile(e.smile_atm, e.smile_skew, e.smile_curv, k)
            delta = forward_delta(np.ones_like(k), np.exp(k), e.time_to_expiry, vol, k < 9)
            near = np.abs(k) < 4 * e.smile_atm * math.sqrt(e.time_to_expiry)
            points = {}
            for target, side in ((0.25, k > 0), (0.75, k < 0)):
                crossing = (delta[:-1] >= target) & (delta[1:] < target)
                at = np.flatnonzero(near[:-1] & side[:-1] & crossing)
                assert len(at) == 1
                i = int(at[0])
                w = (delta[i] - target) / (delta[i] - delta[i + 1])
                points[target] = k[i] + w * (k[i + 1] - k[i])
            call_iv = smile(e.smile_atm, e.smile_skew, e.smile_curv, points[0.25])
            put_iv = smile(e.smile_atm, e.smile_skew, e.smile_curv, points[0.75])
            assert e.rr25 == pytest.approx(100 * (call_iv - put_iv), abs=1e-6)
            assert e.call25_iv == pytest.approx(call_iv, abs=1e-8)
            assert e.put25_iv == pytest.approx(put_iv, abs=1e-8)
            assert e.call25_strike == pytest.approx(e.forward / E9 * math.exp(points[0.25]))
            assert e.put25_strike == pytest.approx(e.forward / E9 * math.exp(points[0.75]))
            assert e.atm_iv == e.smile_atm == smile(e.smile_atm, e.smile_skew, e.smile_curv, 0.0)
            checked += 1
    assert checked >= 24
    rr = [label.rr25 for label in cme_labels]
    assert max(rr) - min(rr) > 0.05  # the truth moves through the session


def _chain_at(arrays: dict[str, np.ndarray], future_id: int, ts: int):
    """Each option's last quote at `ts`: strikes, calls, mids, and the future's mid (dollars)."""
    defs = arrays["definition"]
    options = defs[defs["underlying_id"] == future_id]
    top = arrays["mbp-1"]
    top = top[top["ts_recv"] <= ts]
    future = top[top["instrument_id"] == future_id][-1]
    f = (int(future["bid_px_00"]) + int(future["ask_px_00"])) / 2 / E9
    strikes, calls, mids = [], [], []
    for d in options:
        last = top[top["instrument_id"] == d["instrument_id"]][-1]
        strikes.append(d["strike_price"] / E9)
        calls.append(d["instrument_class"] == b"C")
        mids.append((int(last["bid_px_00"]) + int(last["ask_px_00"])) / 2 / E9)
    return np.array(strikes), np.array(calls), np.array(mids), f


def test_the_quotes_say_what_the_labels_say_within_an_engines_budget(
    cme_labels: list[CmeSecondLabel], cme_arrays: dict[str, np.ndarray]
) -> None:
    futures = _future_ids(cme_arrays["definition"])
    healthy = [label for label in cme_labels[5::11] if not label.quiet]
    assert len(healthy) >= 12
    for label in healthy:
        for e in label.expiries:
            k, call, mid, f = _chain_at(cme_arrays, futures[e.underlying_symbol], label.ts)
            assert round(f * E9) == e.forward
            t = e.time_to_expiry
            # parity forward, median over the five strikes nearest the future
            nearest = np.argsort(np.abs(np.unique(k) - f))[:5]
            forwards = []
            for strike in np.unique(k)[nearest]:
                c, p = mid[(k == strike) & call][0], mid[(k == strike) & ~call][0]
                forwards.append(strike + math.exp(SMALL.rate * t) * (c - p))
            assert abs(np.median(forwards) - f) <= 0.01
            # out-of-the-money vols; ATM by log-moneyness, 25-delta by delta
            otm = np.where(call, k >= f, k < f)
            k, call, mid = k[otm], call[otm], mid[otm]
            iv = implied_vol(mid, np.full(len(k), f), k, np.full(len(k), t), SMALL.rate, call)
            x = np.log(k / f)
            order = np.argsort(x)
            atm = np.interp(0.0, x[order], iv[order])
            assert abs(atm - e.atm_iv) < 0.0005
            delta = forward_delta(np.full(len(k), f), k, np.full(len(k), t), iv, call)
            c_order = np.argsort(delta[call])
            call25 = np.interp(0.25, delta[call][c_order], iv[call][c_order])
            p_order = np.argsort(delta[~call])
            put25 = np.interp(-0.25, delta[~call][p_order], iv[~call][p_order])
            assert abs(100 * (call25 - put25) - e.rr25) < 0.1  # an engine is allowed 0.15


def test_the_session_file_states_the_conventions_windows_and_chains(
    cme_dir: Path, cme_arrays: dict[str, np.ndarray], cme_labels: list[CmeSecondLabel]
) -> None:
    truth = read_truth(cme_dir / SESSION_FILE)
    defs = cme_arrays["definition"]
    assert truth.dataset == "GLBX.MDP3" and truth.root == "CL" and truth.option_root == "LO"
    assert truth.rate == SMALL.rate and truth.tick == CENT and truth.multiplier == 1_000
    assert truth.open_ns == cme_labels[0].ts and truth.close_ns == cme_labels[-1].ts
    windows = [(w.start - truth.open_ns, w.end - w.start) for w in truth.quiet_windows]
    assert windows == [(s * E9, n * E9) for s, n in SMALL.quiet_windows or []]
    assert truth.futures == _future_ids(defs)
    for expiry in truth.expiries:
        calls = defs[(defs["underlying_id"] == expiry.underlying_id)
                     & (defs["instrument_class"] == b"C")]  # fmt: skip
        assert sorted(calls["strike_price"].tolist()) == expiry.strikes
        assert set(calls["expiration"].tolist()) == {expiry.expiration}
