"""Venue decimal text -> exact scaled integers (never through a float)."""

from __future__ import annotations

from schemas.errors import FlowtapeError


class BadNumber(FlowtapeError, ValueError):
    """A price, size or rate that is not a plain decimal, or finer than its scale."""

    code = "bad_number"


def scaled(text: object, digits: int, field: str) -> int:
    """`"0.21437000"` at 9 digits -> 214_370_000; refuses signs other than a leading `-`,
    exponents, and non-zero digits beyond `digits` decimals."""
    if not isinstance(text, str):
        raise BadNumber(f"{field}: expected decimal text, got {text!r}")
    negative = text.startswith("-")
    body = text[1:] if negative else text
    whole, _, fraction = body.partition(".")
    if not (whole.isdigit() and whole.isascii()) or (
        fraction and not (fraction.isdigit() and fraction.isascii())
    ):
        raise BadNumber(f"{field}: expected decimal text like '1.25', got {text!r}")
    kept, rest = fraction[:digits], fraction[digits:]
    if rest.strip("0"):
        raise BadNumber(f"{field}: {text!r} is finer than 1e-{digits}")
    value: int = int(whole) * 10**digits + int(kept.ljust(digits, "0") or "0")
    return -value if negative else value


def millis_ns(value: object, field: str) -> int:
    """Epoch milliseconds (an integer) as nanoseconds."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise BadNumber(f"{field}: expected epoch milliseconds, got {value!r}")
    return value * 1_000_000
