"""Every threshold of the engine, in one frozen struct.

Units are in the field name: `_ns` event-time nanoseconds, `_cents` integer cents, `_bps`
basis points. A threshold set from the environment declares its variable (the seed settings
of DOMAIN.md) and that variable's unit on its own field, `setting("NBBO_MAX_AGE_MS", "ms")`;
`SEED_NAMES` and `config_from_settings` are derived from those declarations.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, get_args

import msgspec

from schemas.errors import ConfigError

MS = 1_000_000
SECOND = 1_000_000_000

# Floors for repeated hits by market-cap tier (cents of premium), after Unusual Whales'
# published flow-alert rules: the larger the company, the larger the floor.
DEFAULT_TIER_FLOORS: dict[str, int] = {
    "mega": 2_500_000,
    "large": 1_500_000,
    "mid": 1_000_000,
    "small": 500_000,
}
_MEGA = ("SPY", "QQQ", "IWM", "AAPL", "MSFT", "NVDA", "AMZN", "GOOGL", "META", "TSLA", "AVGO")
_LARGE = ("AMD", "NFLX", "JPM", "ORCL", "CRM", "LLY", "UNH", "WMT", "XOM", "BAC", "PLTR", "DIS")
DEFAULT_UNDERLYING_TIERS: dict[str, str] = {
    **{name: "mega" for name in _MEGA},
    **{name: "large" for name in _LARGE},
}
DEFAULT_RULE_WEIGHTS: dict[str, int] = {
    "golden_sweep": 3,
    "sweep": 2,
    "block": 2,
    "spike": 2,
    "repeated_hits": 2,
    "unusual_volume": 1,
}

# The unit of an environment variable -> the factor to its field's unit; None: a plain float.
UNIT_FACTORS: dict[str, int | None] = {
    "ms": MS,
    "s": SECOND,
    "dollars": 100,
    "count": 1,
    "z": None,
    "fraction": None,
}


def setting(env: str, unit: str) -> msgspec.Meta:
    """Declares the environment variable that sets a field, and its unit (`UNIT_FACTORS`)."""
    if unit not in UNIT_FACTORS:
        raise ValueError(f"unit must be one of {sorted(UNIT_FACTORS)}, got {unit!r}")
    return msgspec.Meta(extra={"env": env, "unit": unit})


class EngineConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Thresholds and windows of the engine; one config per run (it is part of the state)."""

    # NBBO join
    nbbo_max_age_ns: Annotated[int, setting("NBBO_MAX_AGE_MS", "ms")] = 1_000 * MS

    # clustering
    cluster_window_ns: int = 500 * MS
    multi_leg_sync_ns: int = 100_000  # 100 us of receive time between legs
    multi_leg_max_legs: int = 4
    multi_leg_max_ratio: int = 3
    block_min_size: int = 500
    block_min_premium_cents: int = 25_000_000

    # rolling baselines
    rolling_window_size: Annotated[int, setting("ROLLING_WINDOW_SIZE", "count")] = 50
    rolling_ttl_ns: Annotated[int, setting("ROLLING_TTL_SEC", "s")] = 86_400 * SECOND

    # classifiers (seed thresholds)
    classifier_sweep_min_premium_cents: Annotated[
        int, setting("CLASSIFIER_SWEEP_MIN_PREMIUM", "dollars")
    ] = 4_000_000
    classifier_sweep_min_count: Annotated[int, setting("CLASSIFIER_SWEEP_MIN_COUNT", "count")] = 3
    classifier_sweep_min_premium_z: Annotated[
        float, setting("CLASSIFIER_SWEEP_MIN_PREMIUM_Z", "z")
    ] = 2.0
    classifier_spike_min_premium_cents: Annotated[
        int, setting("CLASSIFIER_SPIKE_MIN_PREMIUM", "dollars")
    ] = 2_000_000
    classifier_spike_min_size: Annotated[int, setting("CLASSIFIER_SPIKE_MIN_SIZE", "count")] = 400
    classifier_spike_min_premium_z: Annotated[
        float, setting("CLASSIFIER_SPIKE_MIN_PREMIUM_Z", "z")
    ] = 2.5
    classifier_spike_min_size_z: Annotated[float, setting("CLASSIFIER_SPIKE_MIN_SIZE_Z", "z")] = 2.0
    classifier_z_min_samples: Annotated[int, setting("CLASSIFIER_Z_MIN_SAMPLES", "count")] = 12
    classifier_min_nbbo_coverage: Annotated[
        float, setting("CLASSIFIER_MIN_NBBO_COVERAGE", "fraction")
    ] = 0.5
    classifier_min_aggressor_ratio: Annotated[
        float, setting("CLASSIFIER_MIN_AGGRESSOR_RATIO", "fraction")
    ] = 0.55
    classifier_golden_sweep_min_premium_cents: int = 100_000_000
    classifier_repeated_hits_min_prints: int = 6
    classifier_repeated_hits_window_ns: int = 100 * MS
    repeated_hits_tier_floors_cents: dict[str, int] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_TIER_FLOORS)
    )
    underlying_tiers: dict[str, str] = msgspec.field(
        default_factory=lambda: dict(DEFAULT_UNDERLYING_TIERS)
    )
    default_tier: str = "mid"
    # unusual volume: day volume over open interest, or over `unusual_volume_multiple` x the
    # contract's average daily volume of its last `unusual_volume_days` sessions (sessions
    # without a print count as 0), once at least `unusual_volume_min_days` are known
    unusual_volume_days: int = 90
    unusual_volume_min_days: int = 10
    unusual_volume_multiple: float = 2.0
    rule_weights: dict[str, int] = msgspec.field(default_factory=lambda: dict(DEFAULT_RULE_WEIGHTS))

    # dark-pool inference
    darkpool_block_min_shares: int = 10_000
    darkpool_block_min_notional_cents: int = 1_000_000_000
    darkpool_impact_window_ns: int = 60 * SECOND
    darkpool_absorbed_max_impact_bps: int = 25
    darkpool_episode_window_ns: int = 360 * SECOND
    darkpool_episode_min_prints: int = 10
    darkpool_episode_min_shares: int = 2_000
    darkpool_episode_min_side_pct: int = 70
    darkpool_episode_min_move_bps: int = 5

    def __post_init__(self) -> None:
        positive = (
            "nbbo_max_age_ns",
            "cluster_window_ns",
            "rolling_window_size",
            "rolling_ttl_ns",
            "classifier_z_min_samples",
            "classifier_repeated_hits_window_ns",
            "darkpool_impact_window_ns",
            "darkpool_episode_window_ns",
            "multi_leg_max_ratio",
            "unusual_volume_days",
            "unusual_volume_min_days",
            "unusual_volume_multiple",
        )
        for name in positive:
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if self.multi_leg_sync_ns < 0:
            raise ValueError(f"multi_leg_sync_ns must be >= 0, got {self.multi_leg_sync_ns}")
        if self.unusual_volume_min_days > self.unusual_volume_days:
            raise ValueError(
                f"unusual_volume_min_days ({self.unusual_volume_min_days}) is more than the "
                f"{self.unusual_volume_days} sessions kept"
            )
        if self.multi_leg_max_legs < 2:
            raise ValueError(f"multi_leg_max_legs must be >= 2, got {self.multi_leg_max_legs}")
        if self.default_tier not in self.repeated_hits_tier_floors_cents:
            raise ValueError(
                f"default_tier {self.default_tier!r} is not one of "
                f"{sorted(self.repeated_hits_tier_floors_cents)}"
            )
        for underlying, tier in self.underlying_tiers.items():
            if tier not in self.repeated_hits_tier_floors_cents:
                raise ValueError(f"tier {tier!r} of {underlying} has no floor")

    def tier_floor_cents(self, underlying: str) -> int:
        """The repeated-hits premium floor of an underlying's market-cap tier."""
        tier = self.underlying_tiers.get(underlying, self.default_tier)
        return self.repeated_hits_tier_floors_cents[tier]


def _seed_names() -> dict[str, tuple[str, int | None]]:
    names: dict[str, tuple[str, int | None]] = {}
    for field in msgspec.structs.fields(EngineConfig):
        for meta in get_args(field.type)[1:]:  # the metadata of an `Annotated` field
            if isinstance(meta, msgspec.Meta) and meta.extra is not None:
                names[meta.extra["env"]] = (field.name, UNIT_FACTORS[meta.extra["unit"]])
    return names


# Environment variable -> (config field, factor from the variable's unit to the field's unit).
SEED_NAMES: dict[str, tuple[str, int | None]] = _seed_names()


class EngineSettingError(ConfigError, ValueError):
    """An engine threshold given in the environment that is not a number."""


def config_from_settings(
    settings: Mapping[str, str], base: EngineConfig | None = None
) -> EngineConfig:
    """A config from seed-named settings (e.g. the environment the service read for us).

    Only the seed names are looked at; integer settings are scaled to the field's unit
    (milliseconds -> ns, dollars -> cents), the others are floats. Raises EngineSettingError
    (a ValueError) naming the setting that is not a number.
    """
    changes: dict[str, int | float] = {}
    for name, (field, factor) in SEED_NAMES.items():
        raw = settings.get(name)
        if raw is None or raw == "":
            continue
        try:
            if factor is None:
                changes[field] = float(raw)
            else:
                changes[field] = round(float(raw) * factor)
        except ValueError:
            raise EngineSettingError(f"{name} must be a number, got {raw!r}") from None
    return msgspec.structs.replace(base or EngineConfig(), **changes)
