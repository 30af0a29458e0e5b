"""Rolling baselines with exact integer sums and fixed-point z-scores.

A ring holds the last `rolling_window_size` samples as Python integers. Pushing (once per
packet) only stores the sample; scoring (a few packets in a hundred) sums the ring and its
squares exactly, so nothing drifts, and rounds mean, standard deviation and z to
`FIXED_DIGITS` once, so every run and every batch split gives the same bits. A z-score
compares a sample with the samples before it (the sample is added after scoring) and is
`None` below `classifier_z_min_samples` or with zero spread.
"""

from __future__ import annotations

import math
from operator import mul
from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from compute.flow.state import Ring, UnderlyingBaselines
from schemas.events import FIXED_DIGITS, BaselineValue

_SCALE: int = 10**FIXED_DIGITS


def fixed_ratio(num: int, den: int) -> float:
    """`num / den` rounded half-to-even to `FIXED_DIGITS` decimals, exactly (`den > 0`).

    Integer arithmetic on the exact rational: `round(num / den, 4)` would first round to a
    binary float and then go through decimal formatting, which is slower and can round
    differently on ties.
    """
    q, r = divmod(num * _SCALE, den)
    twice = 2 * r
    if twice > den or (twice == den and q & 1):
        q += 1
    return q / _SCALE


def fixed_ratios(num: npt.NDArray[np.int64], den: npt.NDArray[np.int64]) -> npt.NDArray[np.float64]:
    """`fixed_ratio` over arrays (`den > 0`)."""
    scaled = num * _SCALE
    q = scaled // den
    twice = 2 * (scaled - q * den)
    q += (twice > den) | ((twice == den) & (q % 2 == 1))
    return q / _SCALE


def ring_push(ring: Ring, value: int, size: int) -> None:
    """Add one sample, evicting the oldest once `size` samples are held."""
    values = ring.values
    if len(values) < size:
        values.append(value)
    else:
        pos = ring.pos
        values[pos] = value
        ring.pos = (pos + 1) % size


def push_samples(
    base: UnderlyingBaselines, premium: int, size: int, spread_bps: int, window: int
) -> None:
    """Add one packet to its underlying's baselines (spread only when it had a quote)."""
    # Once per packet: the premium and size rings fill and wrap together, so they are
    # pushed inline with one position (same logic as ring_push).
    premium_ring = base.premium
    premium_values, size_values = premium_ring.values, base.size.values
    if len(premium_values) < window:
        premium_values.append(premium)
        size_values.append(size)
    else:
        pos = premium_ring.pos
        premium_values[pos] = premium
        size_values[pos] = size
        premium_ring.pos = base.size.pos = (pos + 1) % window
    if spread_bps >= 0:
        ring_push(base.spread, spread_bps, window)


def ring_reset(ring: Ring) -> None:
    """Forget every sample (the baseline expired in event time)."""
    ring.values.clear()
    ring.pos = 0


class RingSums(NamedTuple):
    """What a z-score needs of a ring: its count, sum and sum of squares, exact."""

    n: int
    total: int
    squares: int


def ring_sums(ring: Ring) -> RingSums:
    values = ring.values
    return RingSums(len(values), sum(values), sum(map(mul, values, values)))


def baseline_value(
    sums: RingSums, key: str, metric: str, value: int, min_samples: int
) -> BaselineValue:
    """`value` scored against a ring's sums, with the mean, std and n behind the z-score."""
    n, total, squares = sums
    if n == 0:
        return BaselineValue(key, metric, value, 0, 0.0, 0.0, None)
    # n^2 * variance, exact: n * sum(x^2) - (sum x)^2 >= 0.
    spread_sq = n * squares - total * total
    mean = round(total / n, FIXED_DIGITS)
    std = round(math.sqrt(spread_sq) / n, FIXED_DIGITS)
    z: float | None = None
    if n >= min_samples and spread_sq > 0:
        z = round((n * value - total) / math.sqrt(spread_sq), FIXED_DIGITS)
    return BaselineValue(key, metric, value, n, mean, std, z)
