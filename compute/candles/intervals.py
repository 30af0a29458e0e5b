"""Candle intervals named as traders write them: `1m`, `15m`, `1h`, `4h`, `1d`, `30s`."""

from __future__ import annotations

from schemas.errors import ConfigError

_UNIT_NS = {"s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000,
            "d": 86_400_000_000_000}  # fmt: skip


def interval_ns(name: str) -> int:
    """The length of an interval such as `15m` in nanoseconds; `ConfigError` otherwise."""
    number, unit = name[:-1], name[-1:]
    if unit not in _UNIT_NS or not number.isdigit() or int(number) == 0:
        raise ConfigError(
            f"an interval is a positive whole number and one of s, m, h, d (e.g. 15m), "
            f"got {name!r}",
            code="interval",
        )
    return int(number) * _UNIT_NS[unit]
