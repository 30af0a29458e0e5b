"""Black-76 on a future: prices, forward deltas and a robust implied-vol solve.

LO options (and most CME options on futures) are American. The market quotes their vols
with Black-76 on the future's mid, and for out-of-the-money options the early-exercise
premium Black-76 leaves out is small (the holder of an option on a future gains only the
interest on the intrinsic value by exercising early), so the frames read vols that way.

Prices here are floats in the price's own unit, `time` in years, `rate` continuously
compounded; every function is total: what cannot be priced or solved is None.
"""

from __future__ import annotations

import math

_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
VOL_FLOOR = 1e-4
VOL_CEILING = 10.0
_VOL_TOLERANCE = 1e-12
_MAX_ITERATIONS = 100


def normal_cdf(x: float) -> float:
    # erfc keeps its relative precision in the lower tail, where 1 + erf(x) cancels.
    return 0.5 * math.erfc(-x / _SQRT2)


def _d1(forward: float, strike: float, vol: float, time: float) -> float:
    spread = vol * math.sqrt(time)
    return (math.log(forward / strike) + 0.5 * spread * spread) / spread


def undiscounted_price(
    forward: float, strike: float, vol: float, time: float, is_call: bool
) -> float:
    """The option's Black-76 value times e^{rT} (what a forward contract on it would pay)."""
    d1 = _d1(forward, strike, vol, time)
    d2 = d1 - vol * math.sqrt(time)
    if is_call:
        return forward * normal_cdf(d1) - strike * normal_cdf(d2)
    return strike * normal_cdf(-d2) - forward * normal_cdf(-d1)


def forward_delta(forward: float, strike: float, vol: float, time: float, is_call: bool) -> float:
    """dV/dF undiscounted: N(d1) for a call, N(d1) - 1 for a put."""
    call_delta = normal_cdf(_d1(forward, strike, vol, time))
    return call_delta if is_call else call_delta - 1.0


def _vega(forward: float, strike: float, vol: float, time: float) -> float:
    d1 = _d1(forward, strike, vol, time)
    return forward * math.exp(-0.5 * d1 * d1) * _INV_SQRT_2PI * math.sqrt(time)


def implied_vol(
    price: float, forward: float, strike: float, time: float, rate: float, is_call: bool
) -> float | None:
    """The Black-76 vol that prices the option at `price`, or None outside the no-arbitrage
    bounds (undiscounted: above intrinsic, below the forward for a call and the strike for a
    put) or outside [`VOL_FLOOR`, `VOL_CEILING`].

    Newton's method kept inside a bracket that every step narrows: a step leaving the
    bracket, or too small a vega, falls back to bisection, so the solve always converges.
    """
    if not (forward > 0.0 and strike > 0.0 and time > 0.0 and price > 0.0):
        return None
    if not all(math.isfinite(x) for x in (price, forward, strike, time, rate)):
        return None
    target = price * math.exp(rate * time)
    intrinsic = max(forward - strike, 0.0) if is_call else max(strike - forward, 0.0)
    upper = forward if is_call else strike
    if not intrinsic < target < upper:
        return None
    low, high = VOL_FLOOR, VOL_CEILING
    if undiscounted_price(forward, strike, low, time, is_call) > target:
        return None
    if undiscounted_price(forward, strike, high, time, is_call) < target:
        return None
    # Brenner-Subrahmanyam's at-the-money approximation as the first guess.
    vol = min(max(target / forward * math.sqrt(2.0 * math.pi / time), low), high)
    for _ in range(_MAX_ITERATIONS):
        error = undiscounted_price(forward, strike, vol, time, is_call) - target
        if error > 0.0:
            high = vol
        else:
            low = vol
        vega = _vega(forward, strike, vol, time)
        step = error / vega if vega > 0.0 else math.inf
        candidate = vol - step
        if not low < candidate < high:
            candidate = 0.5 * (low + high)
        if abs(candidate - vol) < _VOL_TOLERANCE or high - low < _VOL_TOLERANCE:
            return candidate
        vol = candidate
    return vol
