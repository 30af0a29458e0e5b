"""A candle as the API shows it (REST and the `candles` channel): each price of OHLC keeps its
integer at 1e-9 dollars and gains a `<name>_dollars` float beside it (api/views.py's rule)."""

from __future__ import annotations

from typing import Any

from analytics.candles import PRICE_FIELDS
from api.views import dollars


def candle_view(candle: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in candle.items():
        out[name] = value
        if name in PRICE_FIELDS:
            out[f"{name}_dollars"] = dollars(value)
    return out
