"""Which of a batch's packets may fire a classifier rule, decided over the kernel's columns.

Only those packets become FlowPacket structs and go through `compute.flow.classifiers`;
the test here is a superset of what `classify` finds: the integer preconditions exactly,
and each z-score through a bound in floating point whose margin dwarfs both the rounding
of z to `FIXED_DIGITS` decimals and the float error, treating a ring whose spread the
float sums cannot resolve as able to give any z (including none).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import numpy.typing as npt

from compute.flow.baselines import fixed_ratios
from compute.flow.config import EngineConfig
from compute.flow.layout import (
    LIMB,
    PK_BLOCK,
    PK_MULTI_LEG,
    PK_SWEEP,
    Q_BUY,
    Q_COUNT,
    Q_COVERED,
    Q_KIND,
    Q_PREMIUM,
    Q_SCORE,
    Q_SELL,
    Q_SIZE,
    R_N,
    R_P_SUM,
    R_S_SUM,
    R_UNUSUAL,
)

Mask = npt.NDArray[np.bool_]
Int64Array = npt.NDArray[np.int64]

Z_MARGIN = 1e-3  # z is rounded to 4 decimals (at most 5e-5 away); float error is ~1e-9
RESOLVED_SPREAD = 1e-6  # n·Σx² − (Σx)² above this share of n·Σx²: float resolves it


class MayFire(NamedTuple):
    """Per packet: it may fire at least one rule; it is a block that can fire no other rule
    (so its hits are exactly the block rule's)."""

    some: Mask
    block_only: Mask


def may_fire(cfg: EngineConfig, packets: Int64Array, scores: Int64Array) -> MayFire:
    """Which scored packets may fire rules."""
    may = np.zeros(len(packets), bool)
    block_only = np.zeros(len(packets), bool)
    scored = np.flatnonzero(packets[:, Q_SCORE] >= 0)
    if not len(scored):
        return MayFire(may, block_only)
    rows, sums = packets[scored], scores[packets[scored, Q_SCORE]]
    kind, premium = rows[:, Q_KIND], rows[:, Q_PREMIUM]
    size, n = rows[:, Q_SIZE], rows[:, Q_COUNT]
    premium_none, premium_z = z_bounds(sums, R_P_SUM, premium, cfg)
    sweep = (
        (kind == PK_SWEEP)
        & (premium >= cfg.classifier_sweep_min_premium_cents)
        & (n >= cfg.classifier_sweep_min_count)
        & (fixed_ratios(rows[:, Q_COVERED], np.maximum(n, 1)) >= cfg.classifier_min_nbbo_coverage)
        & (
            fixed_ratios(np.maximum(rows[:, Q_BUY], rows[:, Q_SELL]), np.maximum(size, 1))
            >= cfg.classifier_min_aggressor_ratio
        )
    )
    # A qualifying sweep fires with no z or a high one; a golden sweep fires with any z.
    golden = premium > cfg.classifier_golden_sweep_min_premium_cents
    sweep &= golden | premium_none | (premium_z >= cfg.classifier_sweep_min_premium_z)
    spike = (premium >= cfg.classifier_spike_min_premium_cents) & (
        size >= cfg.classifier_spike_min_size
    )
    if spike.any():
        _, size_z = z_bounds(sums, R_S_SUM, size, cfg)
        spike &= (premium_z >= cfg.classifier_spike_min_premium_z) & (
            size_z >= cfg.classifier_spike_min_size_z
        )
    repeated = (kind != PK_MULTI_LEG) & (n >= cfg.classifier_repeated_hits_min_prints)
    unusual = sums[:, R_UNUSUAL] == 1
    others = sweep | spike | repeated | unusual
    may[scored] = others | (kind == PK_BLOCK)
    block_only[scored] = (kind == PK_BLOCK) & ~others
    return MayFire(may, block_only)


def z_bounds(
    sums: Int64Array, at: int, values: Int64Array, cfg: EngineConfig
) -> tuple[Mask, npt.NDArray[np.float64]]:
    """For each value against its ring's sums (count `R_N`, sum at `at`, squares in three
    limbs after it): (its z may be None, an upper bound of its z; +inf where unknown,
    -inf where z is surely None)."""
    n = sums[:, R_N].astype(np.float64)
    total = sums[:, at].astype(np.float64)
    limb = float(LIMB)
    squares = (sums[:, at + 1] * limb + sums[:, at + 2]) * limb + sums[:, at + 3]
    scale = n * squares
    spread = scale - total * total
    unresolved = spread <= RESOLVED_SPREAD * scale  # also every ring of one value, or none
    enough = sums[:, R_N] >= cfg.classifier_z_min_samples
    z = (n * values - total) / np.sqrt(np.where(unresolved, 1.0, spread))
    upper = np.where(unresolved, np.inf, z + Z_MARGIN)
    return ~enough | unresolved, np.where(enough, upper, -np.inf)
