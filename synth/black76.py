"""Black-76 on a futures price, vectorised: the synthetic CME market's own pricing truth.

LO options are American; CME quotes their vols with Black-76 on the future, and the early
exercise value of an out-of-the-money option on a future is small, so the synthetic market
prices every option as European. Forward deltas are undiscounted: N(d1) for a call,
N(d1) - 1 for a put.
"""

from __future__ import annotations

import math

import numpy as np

_erf = np.frompyfunc(math.erf, 1, 1)  # numpy has no erf; math.erf is exact to a double


def norm_cdf(x: np.ndarray) -> np.ndarray:
    """The standard normal distribution function, elementwise."""
    return np.asarray(0.5 * (1.0 + _erf(np.asarray(x, dtype=np.float64) / math.sqrt(2.0))), float)


def d1(forward: np.ndarray, strike: np.ndarray, years: np.ndarray, vol: np.ndarray) -> np.ndarray:
    """Black-76 d1 = (ln(F/K) + vol^2 T / 2) / (vol sqrt T)."""
    root = vol * np.sqrt(years)
    return np.asarray((np.log(forward / strike) + 0.5 * root * root) / root)


def price(
    forward: np.ndarray,
    strike: np.ndarray,
    years: np.ndarray,
    vol: np.ndarray,
    rate: float,
    is_call: np.ndarray,
) -> np.ndarray:
    """Black-76 value of calls (`is_call`) and puts: e^{-rT} (F N(d1) - K N(d2)) for a call,
    e^{-rT} (K N(-d2) - F N(-d1)) for a put."""
    up = d1(forward, strike, years, vol)
    down = up - vol * np.sqrt(years)
    sign = np.where(is_call, 1.0, -1.0)
    undiscounted = sign * (forward * norm_cdf(sign * up) - strike * norm_cdf(sign * down))
    return np.asarray(np.exp(-rate * years) * undiscounted)


def forward_delta(
    forward: np.ndarray, strike: np.ndarray, years: np.ndarray, vol: np.ndarray, is_call: bool
) -> np.ndarray:
    """Undiscounted Black-76 delta: N(d1) for calls, N(d1) - 1 for puts."""
    n_d1 = norm_cdf(d1(forward, strike, years, vol))
    return n_d1 if is_call else n_d1 - 1.0
