"""How much the buffers keep."""

from __future__ import annotations

import msgspec

from compute.candles.intervals import interval_ns
from schemas.errors import ConfigError

DEFAULT_RETENTION = {"1m": 1_440, "15m": 960, "1h": 720, "4h": 1_200}


class BufferConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Candles kept per interval (the open candle included) and trades kept per series."""

    retention: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_RETENTION))
    trades_kept: int = 1_000

    def __post_init__(self) -> None:
        for name, count in self.retention.items():
            interval_ns(name)
            if count < 1:
                raise ConfigError(f"retention of {name} must be at least 1, got {count}")
        if self.trades_kept < 1:
            raise ConfigError(f"trades_kept must be at least 1, got {self.trades_kept}")
