"""Frames against a chain priced in the test from a known smile (tests/.../alpha/market.py):
rr25 and ATM vol within 0.15 vol points of the truth and the parity forward within one tick
at every healthy frame; a quiet chain is stale within two frames and healthy again once it
moves."""

from __future__ import annotations

import bisect
import math

import pytest

from compute.alpha import AlphaConfig, finish, initial_state, step
from schemas.cme import AlphaFrame
from schemas.events import Event
from tests.unit.compute.alpha.market import MS, SECOND, TICK, YEAR_NS, CmeMarket

QUIET = (30, 40)  # seconds from the start: no quote moves
QUIET_LIMIT_MS = 1_000
EMIT_MS = 1_000


def run(market: CmeMarket, seconds: int) -> tuple[list[AlphaFrame], list[tuple[int, int]]]:
    events, path = market.session(seconds, quiet=QUIET)
    config = AlphaConfig(rate=market.rate, max_quiet_ms=QUIET_LIMIT_MS, emit_ms=EMIT_MS)
    state, out = step(initial_state(config, "smile"), events)
    out += finish(state)[1]
    frames = [frame for frame in out if isinstance(frame, AlphaFrame)]
    assert len(frames) == len(out)
    return frames, path


def price_before(path: list[tuple[int, int]], ts: int) -> int:
    return path[bisect.bisect_left([moved for moved, _ in path], ts) - 1][1]


@pytest.mark.parametrize("seed", [3, 8, 21])
def test_rr25_atm_vol_and_forward_match_the_known_smile_at_every_healthy_frame(
    seed: int,
) -> None:
    market = CmeMarket(seed=seed)
    frames, path = run(market, 60)
    front, second = market.expiries
    healthy = [frame for frame in frames if frame.health == "ok"]
    assert len(healthy) >= 45
    for frame in healthy:
        price = price_before(path, frame.ts_recv)
        time = (front.expiration - frame.ts_recv) / YEAR_NS
        assert frame.rr25 is not None and frame.atm_iv is not None
        assert abs(frame.rr25 - front.smile.rr25(time)) <= 0.15, frame
        assert abs(frame.atm_iv - front.smile.atm) * 100 <= 0.15, frame
        first, later = frame.expiries
        assert first.forward is not None and abs(first.forward - price) <= TICK, frame
        assert later.forward is not None
        assert abs(later.forward - (price + second.basis)) <= TICK, frame
        assert first.underlying_mid == price == frame.cme_fwd_mid
        assert frame.front_symbol == front.future_symbol == first.underlying_symbol
        assert frame.iv_term_slope is not None
        assert abs(frame.iv_term_slope - (second.smile.atm - front.smile.atm)) <= 0.003
        assert first.iv_strikes == first.fresh_strikes == 41  # 20 strikes a side and ATM
        assert first.iv_rejected == 0
        assert first.call25_iv is not None and first.put25_iv is not None
        assert abs((first.call25_iv - first.put25_iv) * 100 - first.rr25) <= 2e-4


def test_a_quiet_chain_is_stale_within_two_frames_and_healthy_once_it_moves_again() -> None:
    market = CmeMarket(seed=5)
    frames, path = run(market, 60)
    went_quiet = max(moved for moved, _ in path if moved < market.start + QUIET[0] * SECOND)
    resumed = min(moved for moved, _ in path if moved >= market.start + QUIET[1] * SECOND)
    over_limit = went_quiet + QUIET_LIMIT_MS * MS  # from here no change for longer than the limit
    after_quiet = [f for f in frames if f.ts_recv > went_quiet]
    assert after_quiet[0].health == "ok"  # the frame just after the last change
    assert after_quiet[1].health == "stale_chain"  # the second: within two frames
    stale = [frame.ts_recv for frame in frames if frame.health == "stale_chain"]
    assert min(stale) > over_limit
    assert max(stale) <= resumed + EMIT_MS * MS
    for frame in frames:
        if over_limit < frame.ts_recv <= resumed:
            assert frame.health == "stale_chain"
            assert frame.health_reason.startswith("quiet: no option quote change for ")
            quiet_ms = int(frame.health_reason.split()[6])
            # the move's requotes span less than a millisecond after it
            since_move_ms = (frame.ts_recv - went_quiet) // MS
            assert since_move_ms - 1 <= quiet_ms <= since_move_ms
        elif frame.ts_recv > market.start + 2 * SECOND:
            assert (frame.health, frame.health_reason) == ("ok", "")


def test_skew_signal_is_the_event_time_ewma_of_tanh_rr25_over_healthy_frames() -> None:
    market = CmeMarket(seed=4)
    frames, _ = run(market, 60)
    config = AlphaConfig()
    expected: float | None = None
    last_ts = 0
    for frame in frames:
        if frame.health == "ok" and frame.rr25 is not None:
            value = math.tanh(frame.rr25 / config.skew_k)
            if expected is None:
                expected = value
            else:
                keep = 0.5 ** ((frame.ts_recv - last_ts) / (config.skew_half_life_ms * MS))
                expected = keep * expected + (1 - keep) * value
            last_ts = frame.ts_recv
        if expected is None:
            assert frame.skew_signal is None
        else:
            assert frame.skew_signal is not None and -1 <= frame.skew_signal <= 1
            assert abs(frame.skew_signal - expected) <= 1e-4


def test_frames_come_at_every_whole_second_from_the_state_before_the_crossing_event() -> None:
    market = CmeMarket(seed=6)
    events, _ = market.session(5)
    config = AlphaConfig(rate=market.rate)
    frames: list[Event] = []
    state = initial_state(config, "grid")
    seen = 0
    for event in events:
        before = len(frames)
        state, out = step(state, [event])
        frames += out
        for frame in out:
            # a frame at t is due at the first event received at or after t, and holds
            # only the events received before t
            assert seen < frame.ts_recv <= event.ts_recv
        if len(frames) > before:
            assert all(f.ts_recv % SECOND == 0 for f in out)
        seen = event.ts_recv
    state, out = finish(state)
    frames += out
    times = [frame.ts_recv for frame in frames]
    first = (events[0].ts_recv // SECOND + 1) * SECOND
    assert times == list(range(first, first + len(times) * SECOND, SECOND))
    assert times[-1] > events[-1].ts_recv
