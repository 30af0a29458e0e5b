"""Background option flow of the hard profile, before quotes get their values.

- Quiet contracts: a share of the contracts quote rarely (a change every ten seconds or so)
  while they keep printing, so their last NBBO change is often seconds old and still the
  quote in force on a complete change stream.
- Quotes move around prints: the other contracts quote as actively as they trade. Before a
  print of theirs the NBBO changes within a millisecond (the quote in force is then that
  fresh one) or else, mostly, within the second; after it, often within a millisecond.
- A clear instant around planted prints: no background print of the same underlying within
  `GUARD_NS` of a planted print, because two prints of one underlying that close are, by the
  hard tape's own definition, legs of one complex order.
- Prices from a known aggressor: every print draws its side first, then prints at its own
  touch, inside the spread leaning to its side, a penny through its touch, or at the exact
  mid; only the mid prints leave their side unknown.
"""

from __future__ import annotations

import numpy as np

from synth.columns import series_key
from synth.universe import CENT, NS

US = 1_000
MS = 1_000_000
BUY, SELL = 1, -1
GUARD_NS = 150 * US
QUIET_SHARE = 0.3
QUIET_MEAN_GAP_NS = 10 * NS
# Shares of the prints of contracts that are not quiet with an NBBO change within a
# millisecond before them, within a second (but not a millisecond) before, within a
# millisecond after.
MOVED_BEFORE, RECENT_BEFORE, MOVED_AFTER = 0.35, 0.55, 0.35
# Cumulative shares of where a print sits: own touch, inside leaning, through, exact mid.
AT_TOUCH, INSIDE, THROUGH = 0.62, 0.82, 0.84


def quiet_contracts(nprng: np.random.Generator, n_contracts: int) -> np.ndarray:
    """Mask of the contracts that quote rarely all session."""
    return nprng.random(n_contracts) < QUIET_SHARE


def roughen(
    nprng: np.random.Generator,
    c_under: np.ndarray,
    quiet: np.ndarray,
    prints: tuple[np.ndarray, np.ndarray],
    quotes: tuple[np.ndarray, np.ndarray],
    n_opening: int,
    planted: tuple[np.ndarray, np.ndarray],
    duration_ns: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Background (contract, time) of prints and quotes with the hard texture applied.

    `quotes` starts with `n_opening` opening quotes, which every contract keeps; `planted`
    holds the planted prints' contracts and times.
    """
    p_c, p_t = prints
    q_c, q_t = quotes
    keep = _clear_of(c_under, p_c, p_t, *planted)
    p_c, p_t = p_c[keep], p_t[keep]

    opening = np.arange(len(q_c)) < n_opening
    loud = opening | ~quiet[q_c]
    n_quiet = int(quiet.sum())
    per_quiet = nprng.poisson(duration_ns / QUIET_MEAN_GAP_NS, size=n_quiet)
    sparse_c = np.repeat(np.flatnonzero(quiet), per_quiet)
    sparse_t = nprng.integers(NS // 2, duration_ns, size=len(sparse_c))

    active = ~quiet[p_c]
    draw = nprng.random(len(p_c))
    moved = active & (draw < MOVED_BEFORE)
    recent = active & ~moved & (draw < MOVED_BEFORE + RECENT_BEFORE)
    after = active & (nprng.random(len(p_c)) < MOVED_AFTER)
    moved_t = p_t[moved] - nprng.integers(5 * US, MS, size=int(moved.sum()))
    recent_t = p_t[recent] - nprng.integers(MS, NS, size=int(recent.sum()))
    after_t = p_t[after] + nprng.integers(5 * US, MS, size=int(after.sum()))
    inside = after_t < duration_ns

    q_c = np.concatenate([q_c[loud], sparse_c, p_c[moved], p_c[recent], p_c[after][inside]])
    q_t = np.concatenate([q_t[loud], sparse_t, moved_t, recent_t, after_t[inside]])
    return p_c, p_t, q_c, q_t


def _clear_of(
    c_under: np.ndarray,
    p_c: np.ndarray,
    p_t: np.ndarray,
    planted_c: np.ndarray,
    planted_t: np.ndarray,
) -> np.ndarray:
    """Mask (True = keep) of prints farther than GUARD_NS from every planted print of their
    underlying."""
    if not len(planted_c):
        return np.ones(len(p_c), dtype=bool)
    planted = np.sort(series_key(c_under[planted_c], planted_t))
    key = series_key(c_under[p_c], p_t)
    nearest = np.searchsorted(planted, key - GUARD_NS, side="left")
    found = nearest < len(planted)
    found[found] = planted[nearest[found]] <= key[found] + GUARD_NS
    return ~found


def sided_prices(
    nprng: np.random.Generator, bid: np.ndarray, ask: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Price and true side (1 buy, -1 sell, 0 unknown) of prints in their as-of NBBO."""
    n = len(bid)
    side = np.where(nprng.random(n) < 0.5, BUY, SELL)
    where = nprng.random(n)
    lean = 0.1 + 0.9 * nprng.random(n)
    touch = np.where(side == BUY, ask, bid)
    # Strictly past the mid toward the own touch, on the penny grid (price improvement).
    toward = (bid + ask) / 2 + side * lean * (ask - bid) / 2
    rounded = np.where(side == BUY, np.ceil(toward / CENT), np.floor(toward / CENT))
    inside = np.clip(rounded.astype(np.int64) * CENT, bid, ask)
    through = np.maximum(touch + side * CENT, CENT)
    exact_mid = (where >= THROUGH) & ((bid + ask) % (2 * CENT) == 0)
    price = np.where(
        where < AT_TOUCH,
        touch,
        np.where(
            where < INSIDE,
            inside,
            np.where(where < THROUGH, through, np.where(exact_mid, (bid + ask) // 2, inside)),
        ),
    )
    return price.astype(np.int64), np.where(exact_mid, 0, side).astype(np.int64)
