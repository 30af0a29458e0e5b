"""Field readers and the quarantine record shared by the venue normalisers."""

from __future__ import annotations

from typing import Any

from ingest.marketdata.numbers import BadNumber, scaled
from schemas.events import Quarantined

PRICE_DIGITS = 9  # schemas.events.PRICE_SCALE
SIZE_DIGITS = 8  # schemas.crypto.SIZE_SCALE
RATE_DIGITS = 9  # schemas.crypto.RATE_SCALE
MAX_PAYLOAD = 65_536  # bytes of a bad frame kept with its quarantine record


class BadFrame(BadNumber):
    """A frame field is missing or has the wrong type."""

    code = "bad_frame"


def int_field(data: dict[str, Any], key: str) -> int:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadFrame(f"{key}: expected an integer, got {value!r}")
    return value


def optional_scaled(value: Any, digits: int, field: str) -> int | None:
    """None for a value the venue left out (absent or empty text), else `scaled`."""
    return None if value in (None, "") else scaled(value, digits, field)


def levels(rows: Any, side: str) -> tuple[list[int], list[int]]:
    """`[[price, size], …]` as parallel price and size lists."""
    if not isinstance(rows, list):
        raise BadFrame(f"{side}: expected a list of [price, size], got {rows!r}")
    prices: list[int] = []
    sizes: list[int] = []
    for row in rows:
        if not isinstance(row, list) or len(row) != 2:
            raise BadFrame(f"{side}: expected [price, size], got {row!r}")
        prices.append(scaled(row[0], PRICE_DIGITS, side))
        sizes.append(scaled(row[1], SIZE_DIGITS, side))
    return prices, sizes


def quarantined(
    source: str, ts_recv: int, reason: str, detail: str, text: str | bytes
) -> Quarantined:
    payload = text.encode() if isinstance(text, str) else text
    return Quarantined(
        ts_recv=ts_recv, source=source, reason=reason, detail=detail, payload=payload[:MAX_PAYLOAD]
    )
