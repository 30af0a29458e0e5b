"""Rolling baselines: exact integer sums, fixed-point z-scores, expiry in event time."""

from __future__ import annotations

import statistics

from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.baselines import baseline_value, ring_push, ring_sums
from compute.flow.state import Ring
from tests.unit.compute.flow.session import MS, SECOND, T0, Contract


def test_ring_keeps_the_last_window_samples_and_scores_them_exactly() -> None:
    ring = Ring([])
    big = 10**15  # squares far beyond float precision stay exact
    for value in range(1, 101):
        ring_push(ring, big + value, 50)
    kept = [big + v for v in range(51, 101)]
    assert sorted(ring.values) == kept
    b = baseline_value(ring_sums(ring), "AAPL", "premium", big + 126, min_samples=12)
    # kept = big + 51..100: mean big + 75.5, population std sqrt((50^2 - 1) / 12)
    assert (b.n, b.mean, b.std) == (50, float(big) + 75.5, round(((50**2 - 1) / 12) ** 0.5, 4))
    assert b.z == round(50.5 / ((50**2 - 1) / 12) ** 0.5, 4)


def test_baseline_value_matches_population_statistics_rounded_to_fixed_digits() -> None:
    ring = Ring([])
    samples = [3, 9, 4, 12, 7, 5, 8, 10, 6, 11, 2, 13]
    for value in samples:
        ring_push(ring, value, 50)
    b = baseline_value(ring_sums(ring), "AAPL", "size", 20, min_samples=12)
    mean, std = statistics.fmean(samples), statistics.pstdev(samples)
    assert (b.n, b.mean, b.std) == (12, round(mean, 4), round(std, 4))
    assert b.z == round((20 - mean) / std, 4)
    assert baseline_value(ring_sums(ring), "AAPL", "size", 20, min_samples=13).z is None
    flat = Ring([])
    for _ in range(20):
        ring_push(flat, 5, 50)
    zero_spread = baseline_value(ring_sums(flat), "AAPL", "size", 9, min_samples=12)
    assert zero_spread.z is None


def test_baselines_expire_after_the_ttl_measured_in_event_time() -> None:
    config = EngineConfig(rolling_ttl_ns=60 * SECOND)
    c = Contract(1)
    events = [c.definition(), c.quote(T0 - MS, 0.90, 1.00)]
    events += [c.trade(T0 + k * SECOND, 1.00, 1, 20) for k in range(3)]
    state = initial_state(config, "t")
    state, _ = step(state, events)
    state, _ = finish(state)
    assert len(state.baselines["AAPL"].premium.values) == 3
    state, _ = step(state, [c.trade(T0 + 200 * SECOND, 1.00, 1, 20)])
    state, _ = finish(state)
    assert len(state.baselines["AAPL"].premium.values) == 1
