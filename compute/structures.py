"""Structure tags of multi-leg packets from the legs' terms (DOMAIN.md vocabulary).

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
    """vertical, straddle, strangle, risk_reversal, calendar, butterfly, ladder or other."""
    expiries = {leg.expiration_date for leg in legs}
    rights = {leg.right for leg in legs}
    strikes = sorted({leg.strike_price for leg in legs})
    if len(legs) == 2:
        a, b = legs
        if len(expiries) == 1:
            if a.right == b.right and a.strike_price != b.strike_price:
                return "vertical"
            if a.right != b.right and a.strike_price == b.strike_price:
                return "straddle"
            if a.right != b.right:
                return "risk_reversal" if _opposite(a.side, b.side) else "strangle"
        elif a.right == b.right and a.strike_price == b.strike_price:
            return "calendar"
        return "other"
    if len(legs) == 3 and len(expiries) == 1 and len(rights) == 1 and len(strikes) == 3:
        by_strike = sorted(legs, key=lambda leg: leg.strike_price)
        low, mid, high = by_strike
        equidistant = mid.strike_price - low.strike_price == high.strike_price - mid.strike_price
        if equidistant and low.ratio == high.ratio and mid.ratio == 2 * low.ratio:
            return "butterfly"
        return "ladder"
    return "other"
