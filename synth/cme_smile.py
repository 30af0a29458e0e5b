"""The known smile of each expiry and what it implies: vols by strike, 25-delta strikes.

Each expiry's implied vol is sigma(k) = atm + skew * k + curv * k^2 in log-moneyness
k = ln(K / F). The parameters move by small mean-reverting steps at every half second of the
session (open + 0.5 s, open + 1.5 s, ...), so a whole second never falls on a change and the
truth of a frame at a whole second is the set of parameters in force then.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth.black76 import norm_cdf

NS = 1_000_000_000
YEAR_NS = 365 * 86_400 * NS  # ACT/365 on nanoseconds: T = (expiration - t) / YEAR_NS
ATM_STEP_SD = 0.0004  # per half-second step: about 2 vol points of drift over an hour
SKEW_STEP_SD = 0.003
REVERSION = 0.002  # per step, towards the expiry's base parameters
BISECTION_STEPS = 64  # halvings of a bracket under 1: the root is exact to a double


@dataclass(frozen=True)
class SmilePath:
    """Smile parameters over the session: row `e` is expiry `e`; column 0 holds before the
    first step, column j + 1 from `step_ns[j]` on."""

    step_ns: np.ndarray
    atm: np.ndarray
    skew: np.ndarray
    curv: np.ndarray

    def index_at(self, ts: np.ndarray) -> np.ndarray:
        """The parameter column in force at each time (a step applies from its instant on)."""
        return np.searchsorted(self.step_ns, ts, side="right")

    def vol(self, expiry: int, column: np.ndarray, k: np.ndarray) -> np.ndarray:
        """sigma(k) of `expiry` with the parameters of `column`."""
        atm, skew, curv = self.atm[expiry, column], self.skew[expiry, column], self.curv[expiry]
        return np.asarray(atm + skew * k + curv * k * k)


def smile_path(rng: np.random.Generator, n_expiries: int, open_ns: int, seconds: int) -> SmilePath:
    """Seeded smiles: a front ATM vol of 28-42 %, each later expiry up to 3 points apart,
    skew -0.35..0.35 and curvature 0.8..2.5 per unit of log-moneyness."""
    steps = seconds
    front = rng.uniform(0.28, 0.42)
    base_atm = front + np.concatenate([[0.0], np.cumsum(rng.uniform(-0.03, 0.03, n_expiries - 1))])
    base_skew = rng.uniform(-0.35, 0.35, n_expiries)
    curv = rng.uniform(0.8, 2.5, n_expiries)
    atm = _mean_reverting(rng, base_atm, ATM_STEP_SD, steps)
    skew = _mean_reverting(rng, base_skew, SKEW_STEP_SD, steps)
    step_ns = open_ns + NS // 2 + NS * np.arange(steps, dtype=np.int64)
    return SmilePath(step_ns=step_ns, atm=atm, skew=skew, curv=curv)


def _mean_reverting(
    rng: np.random.Generator, base: np.ndarray, sd: float, steps: int
) -> np.ndarray:
    shocks = rng.normal(0.0, sd, size=(len(base), steps))
    path = np.empty((len(base), steps + 1))
    path[:, 0] = base
    for j in range(steps):
        path[:, j + 1] = path[:, j] + REVERSION * (base - path[:, j]) + shocks[:, j]
    return path


def delta_log_moneyness(
    smile: SmilePath, expiry: int, column: np.ndarray, years: np.ndarray, target: float
) -> np.ndarray:
    """The log-moneyness where the undiscounted Black-76 delta on the smile equals `target`
    (0.25 for the 25-delta call, -0.25 for the put), by bisection.

    N(d1) falls as k rises near the money; the bracket runs from the forward to four ATM
    standard deviations out, where the sign change is checked, so the root is the one a
    trader means even where a steep smile turns the delta back far out of the money.
    """
    want = target if target > 0 else 1.0 + target
    width = 4.0 * smile.atm[expiry, column] * np.sqrt(years)
    inner = np.zeros_like(years)
    outer = width if target > 0 else -width
    call_side = target > 0
    if not np.all((_n_d1(smile, expiry, column, years, outer) < want) == call_side):
        raise ValueError(f"no {target:+.2f} delta within four standard deviations")
    for _ in range(BISECTION_STEPS):
        middle = 0.5 * (inner + outer)
        beyond = (_n_d1(smile, expiry, column, years, middle) < want) == call_side
        outer = np.where(beyond, middle, outer)
        inner = np.where(beyond, inner, middle)
    return np.asarray(0.5 * (inner + outer))


def _n_d1(
    smile: SmilePath, expiry: int, column: np.ndarray, years: np.ndarray, k: np.ndarray
) -> np.ndarray:
    root = smile.vol(expiry, column, k) * np.sqrt(years)
    return norm_cdf((-k + 0.5 * root * root) / root)
