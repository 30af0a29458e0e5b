"""OCC option symbols, e.g. `AAPL  240119C00190000` (root padded to six, YYMMDD, C/P,
strike in thousandths of a dollar)."""

from __future__ import annotations

import re

import msgspec

from schemas.events import PRICE_SCALE, Right

_OCC = re.compile(r"^(?P<root>[A-Z0-9.]{1,6}) *(?P<ymd>\d{6})(?P<right>[CP])(?P<strike>\d{8})$")


class OccSymbol(msgspec.Struct, frozen=True):
    root: str
    expiration_date: int
    right: Right
    strike_price: int


def parse_occ(symbol: str) -> OccSymbol:
    """Parse an OCC symbol; raises ValueError naming the expected form."""
    match = _OCC.match(symbol)
    if match is None:
        raise ValueError(f"expected an OCC symbol like 'AAPL  240119C00190000', got {symbol!r}")
    ymd = match["ymd"]
    right: Right = "C" if match["right"] == "C" else "P"
    return OccSymbol(
        root=match["root"],
        expiration_date=20_000_000 + int(ymd),
        right=right,
        strike_price=int(match["strike"]) * (PRICE_SCALE // 1000),
    )


def format_occ(root: str, expiration_date: int, right: Right, strike_price: int) -> str:
    """The OCC symbol of a contract; `expiration_date` as YYYYMMDD, strike at 1e-9 scale."""
    thousandths, rest = divmod(strike_price, PRICE_SCALE // 1000)
    if rest:
        raise ValueError(f"strike {strike_price} is finer than OCC's 0.001 dollars")
    return f"{root:<6}{expiration_date % 1_000_000:06d}{right}{thousandths:08d}"
