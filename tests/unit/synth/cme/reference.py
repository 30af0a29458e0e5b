"""An independent Black-76 for the tests (math.erf, bisection): nothing of synth's pricing."""

from __future__ import annotations

import math

import numpy as np

YEAR_NS = 365 * 86_400 * 1_000_000_000
_erf = np.frompyfunc(math.erf, 1, 1)


def cdf(x: np.ndarray) -> np.ndarray:
    return np.asarray(0.5 * (1.0 + _erf(np.asarray(x, float) / math.sqrt(2.0))), dtype=float)


def black76(f: np.ndarray, k: np.ndarray, t: np.ndarray, vol: np.ndarray, r: float,
            call: np.ndarray) -> np.ndarray:  # fmt: skip
    s = vol * np.sqrt(t)
    d1 = np.log(f / k) / s + s / 2
    d2 = d1 - s
    w = np.where(call, 1.0, -1.0)  # a put is the call formula with the signs turned
    return np.asarray(np.exp(-r * t) * w * (f * cdf(w * d1) - k * cdf(w * d2)))


def implied_vol(price: np.ndarray, f: np.ndarray, k: np.ndarray, t: np.ndarray, r: float,
                call: np.ndarray) -> np.ndarray:  # fmt: skip
    """The vol in [0.001, 5] whose Black-76 value is `price`, by 56 bisections (an end of the
    bracket where the price lies beyond it)."""
    low = np.full(np.shape(price), 0.001)
    high = np.full(np.shape(price), 5.0)
    for _ in range(56):
        middle = (low + high) / 2
        above = black76(f, k, t, middle, r, call) > price
        high = np.where(above, middle, high)
        low = np.where(above, low, middle)
    return (low + high) / 2


def forward_delta(f: np.ndarray, k: np.ndarray, t: np.ndarray, vol: np.ndarray,
                  call: np.ndarray) -> np.ndarray:  # fmt: skip
    s = vol * np.sqrt(t)
    n = cdf(np.log(f / k) / s + s / 2)
    return np.asarray(np.where(call, n, n - 1.0))


def smile(atm: np.ndarray, skew: np.ndarray, curv: np.ndarray, k: np.ndarray) -> np.ndarray:
    return np.asarray(atm + skew * k + curv * k * k)
