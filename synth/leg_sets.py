"""Leg sets of the complex orders the hard profile plants (DOMAIN.md "Leg sets").

Each structure is drawn on one underlying's chain by strike rank (position in the listed
strikes of an expiry), so strike gaps are whole listing steps:

| structure | legs (strike rank, side, ratio) |
|---|---|
| vertical | one right and expiry, two strikes, opposite sides, 1:1 |
| straddle | call and put, one strike and expiry, same side, 1:1 |
| strangle | OTM call and OTM put, one expiry, same side, 1:1 |
| butterfly | one right and expiry, three equidistant strikes, wings vs body, 1:2:1 |
| condor | one right and expiry, four strikes, outer pair vs inner pair, 1:1:1:1 |
| ladder | one right and expiry, three strikes, one leg one side two the other, 1:1:1 |
| ratio_spread | a vertical with unequal sizes within 1:3 to 3:1 (1:2, 2:3, 1:3 either way) |
| calendar | one strike and right, two expiries, opposite sides, 1:1 |
| risk_reversal | OTM call and OTM put, one expiry, opposite sides, 1:1 |
"""

from __future__ import annotations

import random

import numpy as np

from synth.universe import Universe

BUY, SELL = 1, -1
STRUCTURES = (
    "vertical",
    "straddle",
    "strangle",
    "butterfly",
    "condor",
    "ladder",
    "ratio_spread",
    "calendar",
    "risk_reversal",
)
UNEQUAL_RATIOS = ((1, 2), (2, 3), (1, 3))

Leg = tuple[int | None, int, int]  # contract (None when not listed), side, ratio


def leg_set(rng: random.Random, universe: Universe, pool: np.ndarray, structure: str) -> list[Leg]:
    """The legs of one `structure` on the contracts `pool` (one underlying's chain)."""
    n_exp = len(universe.expiries)
    expiry = rng.randrange(n_exp)
    positions = sorted(set(universe.c_strike_pos[pool].tolist()))
    atm = positions[len(positions) // 2]
    side = BUY if rng.random() < 0.55 else SELL
    other = -side
    put = rng.random() < 0.5
    step = rng.randint(1, 2)

    def at(pos: int, right_put: bool = put, e: int = expiry) -> int | None:
        hit = pool[
            (universe.c_expiry[pool] == e)
            & (universe.c_strike_pos[pool] == pos)
            & (universe.c_put[pool] == right_put)
        ]
        return int(hit[0]) if len(hit) else None

    if structure == "vertical":
        low = atm + rng.randint(-2, 1)
        return [(at(low), side, 1), (at(low + step), other, 1)]
    if structure == "straddle":
        strike = atm + rng.randint(-1, 1)
        return [(at(strike, False), side, 1), (at(strike, True), side, 1)]
    if structure == "strangle":
        return [(at(atm + step, False), side, 1), (at(atm - step, True), side, 1)]
    if structure == "butterfly":
        low = atm - step + rng.randint(-1, 1)
        return [(at(low), side, 1), (at(low + step), other, 2), (at(low + 2 * step), side, 1)]
    if structure == "condor":
        inner = rng.randint(1, 2)
        low = atm - step - inner // 2
        strikes = (low, low + step, low + step + inner, low + 2 * step + inner)
        sides = (side, other, other, side)
        return [(at(k), s, 1) for k, s in zip(strikes, sides, strict=True)]
    if structure == "ladder":
        low = atm + rng.randint(-2, 0)
        single = rng.choice((0, 2))  # the lone leg sits at one end of the ladder
        return [(at(low + i * step), side if i == single else other, 1) for i in range(3)]
    if structure == "ratio_spread":
        low = atm + rng.randint(-2, 1)
        small, large = rng.choice(UNEQUAL_RATIOS)
        ratios = (small, large) if rng.random() < 0.5 else (large, small)
        return [(at(low), side, ratios[0]), (at(low + step), other, ratios[1])]
    if structure == "calendar":
        if n_exp < 2:
            return []
        near, far = sorted(rng.sample(range(n_exp), 2))
        first = at(atm + rng.randint(-1, 1), put, near)
        # Matched by strike, not rank: further expiries list wider strikes.
        same = pool[
            (universe.c_expiry[pool] == far)
            & (universe.c_put[pool] == put)
            & (first is not None and universe.c_strike[pool] == universe.c_strike[first])
        ]
        return [(first, other, 1), (int(same[0]) if len(same) else None, side, 1)]
    if structure == "risk_reversal":
        return [(at(atm + step, False), side, 1), (at(atm - step, True), other, 1)]
    raise ValueError(f"unknown structure {structure!r}")
