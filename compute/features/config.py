"""Settings of the features engine (frozen; unknown fields rejected)."""

from __future__ import annotations

from typing import Literal

import msgspec

SECOND_NS = 1_000_000_000


class FeaturesConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Window, emission rate and the signal rules' thresholds.

    `emit_interval_ns`: a symbol's features come out at most once per this much event time
    (on the first event at least that long after the last emission) and once more at
    `finish`. The signals fire on an emission when every condition of their rule holds,
    at most once per `signal_cooldown_ns` per symbol and direction:
    - long: the `signal_return` (5 s by default) >= `long_return_bps`, trade imbalance >=
      `min_imbalance`;
    - short: that return <= -`short_return_bps`, trade imbalance <= -`min_imbalance`;
    both with at least `min_trades` trades in the window and a spread of at most
    `max_spread_bps`.
    """

    window_ns: int = 60 * SECOND_NS
    emit_interval_ns: int = SECOND_NS
    book_levels: int = 10
    long_return_bps: float = 5.0
    short_return_bps: float = 5.0
    min_imbalance: float = 0.2
    min_trades: int = 5
    max_spread_bps: float = 20.0
    signal_cooldown_ns: int = 10 * SECOND_NS
    signal_return: Literal["ret_1s_bps", "ret_5s_bps", "ret_30s_bps", "ret_60s_bps"] = "ret_5s_bps"


RETURN_HORIZONS_NS: tuple[tuple[str, int], ...] = (
    ("ret_1s_bps", SECOND_NS),
    ("ret_5s_bps", 5 * SECOND_NS),
    ("ret_30s_bps", 30 * SECOND_NS),
    ("ret_60s_bps", 60 * SECOND_NS),
)
