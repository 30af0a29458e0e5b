"""Settings of the alpha engine (frozen; unknown fields rejected; part of the state).

Durations are in milliseconds of event time (`_ms`), as the environment gives them; vols are
decimal (0.35 = 35 %), `rr25` and `skew_k` in vol points.
"""

from __future__ import annotations

from collections.abc import Mapping

import msgspec

from schemas.errors import ConfigError

MS = 1_000_000

# Environment variable -> the config field it sets (both integers).
SETTING_NAMES: dict[str, str] = {
    "SIDECAR_EMIT_MS": "emit_ms",
    "STRIKES_WINDOW": "strikes_window",
}


class AlphaConfigError(ConfigError, ValueError):
    """A setting of the alpha engine out of its range or not a number."""

    code = "alpha_config"


class AlphaConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """What the engine serves and the thresholds of its frames.

    - `roots`: the futures products served (`CL`); an option belongs to the root of its
      underlying future, whatever its own product code (`LO`, weeklies);
    - `emit_ms` (`SIDECAR_EMIT_MS`): a frame per root at each whole multiple of this much
      event time; after a gap in the input only the first `max_gap_frames` boundaries of
      the gap are emitted (the chain going quiet shows in them) and the rest are counted
      as `skipped_frames`;
    - `strikes_window` (`STRIKES_WINDOW`): strikes per side of at-the-money whose
      out-of-the-money option's vol is solved; the window must reach 25 delta for `rr25`;
    - `rate`: continuously compounded risk-free rate (parity forward and discounting);
    - `forward_strikes`: the parity forward is the median over this many strikes nearest
      the future;
    - `max_expiries`: expiries per frame, front first;
    - `skew_half_life_ms`, `skew_k`: `skew_signal` is an EWMA (this half-life in event time)
      of tanh(rr25 / skew_k) over healthy frames;
    - freshness: a sampled quote (`bbo-1s`, `bbo-1m`) is fresh for `max_quote_age_ms`
      after its sample, a change stream's until it changes; the chain is stale with fewer
      than `min_fresh_strikes` fresh two-sided strikes in the front expiry's window, or
      when no option quote of the root changed for `max_quiet_ms` (a liquid chain's quotes
      change many times a second: one second of silence makes the next frame but one stale);
    - `funding_symbols`: root -> the perpetual (`schemas.crypto.MarkPrice.symbol`) whose
      funding rate the root's frames carry.
    """

    roots: tuple[str, ...] = ("CL",)
    emit_ms: int = 1_000
    max_gap_frames: int = 60
    strikes_window: int = 20
    rate: float = 0.04
    forward_strikes: int = 3
    max_expiries: int = 4
    skew_half_life_ms: int = 60_000
    skew_k: float = 5.0
    max_quote_age_ms: int = 30_000
    min_fresh_strikes: int = 5
    max_quiet_ms: int = 1_000
    funding_symbols: dict[str, str] = msgspec.field(default_factory=dict)

    def __post_init__(self) -> None:
        positive = (
            "emit_ms",
            "max_gap_frames",
            "strikes_window",
            "forward_strikes",
            "max_expiries",
            "skew_half_life_ms",
            "skew_k",
            "max_quote_age_ms",
            "max_quiet_ms",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise AlphaConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.min_fresh_strikes < 0:
            raise AlphaConfigError(f"min_fresh_strikes must be >= 0, got {self.min_fresh_strikes}")
        if not -1.0 <= self.rate <= 1.0:
            raise AlphaConfigError(f"rate must be a decimal within [-1, 1], got {self.rate}")
        if not self.roots:
            raise AlphaConfigError("roots must name at least one futures product, got none")

    @property
    def emit_ns(self) -> int:
        return self.emit_ms * MS


def config_from_settings(
    settings: Mapping[str, str], base: AlphaConfig | None = None
) -> AlphaConfig:
    """`base` (or the defaults) with the `SETTING_NAMES` found in `settings` applied."""
    changes: dict[str, int] = {}
    for env, field in SETTING_NAMES.items():
        if env in settings:
            text = settings[env]
            try:
                changes[field] = int(text)
            except ValueError:
                raise AlphaConfigError(f"{env} must be an integer, got {text!r}") from None
    return msgspec.structs.replace(base or AlphaConfig(), **changes)
