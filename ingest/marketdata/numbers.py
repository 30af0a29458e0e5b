"""Venue decimal text -> exact scaled integers (never through a float)."""

from __future__ import annotations

from schemas.errors import FlowtapeError


class BadNumber(FlowtapeError, ValueError):
    """A price, size or rate that is not a plain decimal, or finer than its scale."""

    code = "bad_number"


_POWERS = tuple(10**n for n in range(19))


def scaled(text: object, digits: int, field: str) -> int:
    """`"0.21437000"` at 9 digits -> 214_370_000; refuses signs other than a leading `-`,
    exponents, and non-zero digits beyond `digits` decimals."""
    if type(text) is not str:
        raise BadNumber(f"{field}: expected decimal text, got {text!r}")
    negative = text[:1] == "-"
    whole, _, fraction = (text[1:] if negative else text).partition(".")
    if len(fraction) > digits:
        if fraction[digits:].strip("0"):
            raise BadNumber(f"{field}: {text!r} is finer than 1e-{digits}")
        fraction = fraction[:digits]
    joined = whole + fraction
    if not (whole and joined.isdigit() and joined.isascii()):
        raise BadNumber(f"{field}: expected decimal text like '1.25', got {text!r}")
    value: int = int(joined) * _POWERS[digits - len(fraction)]
    return -value if negative else value


def millis_ns(value: object, field: str) -> int:
    """Epoch milliseconds (an integer) as nanoseconds."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadNumber(f"{field}: expected epoch milliseconds, got {value!r}")
    return value * 1_000_000
