"""The column test of which packets may fire a rule never leaves out one that does: its
z-score bounds hold for the exact z of every ring, wide, flat, nearly flat, huge or empty."""

from __future__ import annotations

import random

import numpy as np
import pytest

from compute.flow import EngineConfig
from compute.flow.baselines import baseline_value, ring_sums
from compute.flow.layout import LIMB, R_N, R_P_SUM, R_WIDTH
from compute.flow.preconditions import z_bounds
from compute.flow.state import Ring
from tests.unit.compute.flow.gen import seeded


def _ring(rng: random.Random) -> list[int]:
    n = rng.choice([0, 1, 2, 11, 12, 13, rng.randint(1, 200)])
    shape = rng.choice(["wide", "flat", "nearly flat", "huge", "huge nearly flat"])
    if shape == "wide":
        return [rng.randint(1, 10**7) for _ in range(n)]
    if shape == "flat":
        return [rng.randint(1, 10**9)] * n
    if shape == "nearly flat":
        base = rng.randint(1, 10**6)
        return [base + rng.randint(0, 1) for _ in range(n)]
    base = rng.randint(10**13, LIMB * LIMB - 2)
    spread = 10**9 if shape == "huge" else 1
    return [min(base + rng.randint(0, spread), LIMB * LIMB - 1) for _ in range(n)]


def _sums_row(values: list[int]) -> list[int]:
    """A score row's ring part as the kernel lays it out: count, sum, squares in limbs."""
    row = [0] * R_WIDTH
    row[R_N] = len(values)
    row[R_P_SUM] = sum(values)
    for x in values:
        high, low = divmod(x, LIMB)
        row[R_P_SUM + 1] += high * high
        row[R_P_SUM + 2] += 2 * high * low
        row[R_P_SUM + 3] += low * low
    return row


def _value(rng: random.Random, ring: list[int]) -> int:
    if not ring:
        return rng.randint(1, 10**9)
    mean = sum(ring) // len(ring)
    return max(
        1, mean + rng.randint(-3, 3) * max(1, (max(ring) - min(ring)) // 2) + rng.randint(-2, 2)
    )


@pytest.mark.parametrize("seed", range(5))
def test_z_bounds_hold_the_exact_rounded_z_of_every_ring(seed: int) -> None:
    rng = seeded(seed)
    config = EngineConfig()
    rings = [_ring(rng) for _ in range(2_000)]
    values = [_value(rng, ring) for ring in rings]
    sums = np.array([_sums_row(ring) for ring in rings], np.int64)
    may_be_none, upper = z_bounds(sums, R_P_SUM, np.array(values, np.int64), config)
    shapes = {"none": 0, "some": 0}
    for i, ring in enumerate(rings):
        z = baseline_value(
            ring_sums(Ring(list(ring))), "U", "premium", values[i], config.classifier_z_min_samples
        ).z
        if z is None:
            shapes["none"] += 1
            assert may_be_none[i], (ring, values[i])
        else:
            shapes["some"] += 1
            assert z <= upper[i], (ring, values[i], z, upper[i])
    assert shapes["none"] > 100 and shapes["some"] > 100  # both branches were exercised
