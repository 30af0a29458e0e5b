"""Structure tags of multi-leg packets from the legs' terms (DOMAIN.md "Leg sets").

Leg sides are inferred and wrong about half the time on complex trades (Savickas & Wilson),
so tags rest on the terms (right, strike, expiry) and the size ratios; sides only separate
a strangle (same side) from a risk reversal (opposite sides) when both sides are known.
"""

from __future__ import annotations

from typing import NamedTuple


class LegTerms(NamedTuple):
    right: str
    strike_price: int
    expiration_date: int
    side: str
    ratio: int


def _opposite(a: str, b: str) -> bool:
    return {a, b} == {"buy", "sell"}


def tag_structure(legs: list[LegTerms]) -> str:
    """vertical, ratio_spread, straddle, strangle, risk_reversal, calendar, butterfly,
    ladder, condor or other."""
    expiries = {leg.expiration_date for leg in legs}
    rights = {leg.right for leg in legs}
    strikes = {leg.strike_price for leg in legs}
    if len(legs) == 2:
        return _two_legs(legs[0], legs[1], len(expiries))
    if len(expiries) > 1 or len(rights) > 1 or len(strikes) != len(legs):
        return "other"
    ratios = [leg.ratio for leg in sorted(legs, key=lambda leg: leg.strike_price)]
    if len(legs) == 3:
        low, body, high = ratios
        if low == high and body == 2 * low:
            return "butterfly"
        return "ladder" if low == body == high else "other"
    if len(legs) == 4 and len(set(ratios)) == 1:
        return "condor"
    return "other"


def _two_legs(a: LegTerms, b: LegTerms, n_expiries: int) -> str:
    if n_expiries == 1:
        if a.right == b.right and a.strike_price != b.strike_price:
            return "vertical" if a.ratio == b.ratio else "ratio_spread"
        if a.right != b.right and a.strike_price == b.strike_price:
            return "straddle"
        if a.right != b.right:
            return "risk_reversal" if _opposite(a.side, b.side) else "strangle"
    elif a.right == b.right and a.strike_price == b.strike_price:
        return "calendar"
    return "other"
