"""Reading a smile: the parity forward, and the vols at 25 delta and at the money.

A smile here is the solved out-of-the-money points of one expiry, ascending by strike:
puts below the forward, calls at and above it. Values between points are read by linear
interpolation (in forward delta for the wings, in log-moneyness at the money); nothing
is extrapolated, so a window that does not reach 25 delta gives None.
"""

from __future__ import annotations

import math
from typing import NamedTuple

WING_DELTA = 0.25


class SmilePoint(NamedTuple):
    strike: float
    vol: float
    delta: float  # forward delta: N(d1) for a call, N(d1) - 1 for a put
    is_call: bool


def parity_forward(strike_diffs: list[tuple[float, float]], growth: float) -> float | None:
    """The median of `K + growth * (C_mid - P_mid)` over `(K, C_mid - P_mid)` pairs."""
    if not strike_diffs:
        return None
    forwards = sorted(strike + growth * diff for strike, diff in strike_diffs)
    middle = len(forwards) // 2
    if len(forwards) % 2:
        return forwards[middle]
    return 0.5 * (forwards[middle - 1] + forwards[middle])


def _between(x: float, x_a: float, y_a: float, x_b: float, y_b: float) -> float:
    if x_b == x_a:
        return y_a
    return y_a + (x - x_a) / (x_b - x_a) * (y_b - y_a)


def wing_vol(points: list[SmilePoint], is_call: bool) -> float | None:
    """The vol at 25 delta on one wing (a call's +0.25, a put's -0.25), walking out from
    the money to the first pair of points around it."""
    wing = [p for p in points if p.is_call == is_call]
    if not is_call:
        wing.reverse()
    target = WING_DELTA if is_call else -WING_DELTA
    for inner, outer in zip(wing, wing[1:], strict=False):
        if inner.delta == target:
            return inner.vol
        if min(inner.delta, outer.delta) <= target <= max(inner.delta, outer.delta):
            return _between(target, inner.delta, inner.vol, outer.delta, outer.vol)
    if wing and wing[-1].delta == target:
        return wing[-1].vol
    return None


def atm_vol(points: list[SmilePoint], forward: float) -> float | None:
    """The vol at log-moneyness 0, between the points on either side of the forward."""
    for left, right in zip(points, points[1:], strict=False):
        k_left, k_right = math.log(left.strike / forward), math.log(right.strike / forward)
        if k_left <= 0.0 <= k_right:
            return _between(0.0, k_left, left.vol, k_right, right.vol)
    if points and points[0].strike == forward:
        return points[0].vol
    return None
