"""Configuration of one synthetic trading session."""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal, get_args

import msgspec

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
Profile = Literal["standard", "hard"]
MAX_MINUTES = 540  # the generator keys times below 2**45 ns (about 586 minutes)
HARD_PLANTED_PER_KIND = 60  # every kind and structure well over the 50 a score needs


class SynthConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything that shapes a synthetic session; the same config gives the same bytes.

    Rates are per second of session time over the whole universe. `planted_per_kind` is the
    number of planted events of each kind (sweep, split, block, ...); `None` scales it with
    the session length. `profile="hard"` plants the harder tape of `synth.hard` (three- and
    four-leg orders, legs up to 100 us apart, quiet contracts, quotes moving around prints).
    """

    seed: int = 0
    date: str = "2025-02-20"
    start: str = "09:30"  # New York time of the first second
    minutes: int = 10
    n_underlyings: int = 24
    n_expiries: int = 4
    strikes_per_side: int = 6
    option_prints_per_second: float = 40.0
    option_quotes_per_print: float = 3.0
    equity_quotes_per_second: float = 3.0  # per underlying
    equity_prints_per_second: float = 2.0  # lit prints per underlying
    dark_prints_per_second: float = 0.8  # off-exchange prints per underlying
    planted_per_kind: int | None = None
    distractor_share: float = 0.5  # chance a planted option event gets a distractor nearby
    profile: Profile = "standard"

    def session_date(self) -> dt.date:
        """The trading date; raises ValueError on anything but YYYY-MM-DD."""
        if not _DATE.fullmatch(self.date):
            raise ValueError(f"date must be YYYY-MM-DD, got {self.date!r}")
        return dt.date.fromisoformat(self.date)

    def n_planted(self) -> int:
        """Planted events per kind."""
        if self.planted_per_kind is not None:
            return self.planted_per_kind
        if self.profile == "hard":
            return HARD_PLANTED_PER_KIND
        return max(2, min(40, self.minutes // 2))

    def validate(self) -> None:
        """Raise ValueError naming the first field out of range."""
        self.session_date()
        if self.profile not in get_args(Profile):
            raise ValueError(f"profile must be standard or hard, got {self.profile!r}")
        hours, _, minutes = self.start.partition(":")
        if not (hours.isdigit() and minutes.isdigit()):
            raise ValueError(f"start must be HH:MM, got {self.start!r}")
        if not 1 <= self.minutes <= MAX_MINUTES:
            raise ValueError(f"minutes must be 1..{MAX_MINUTES}, got {self.minutes}")
        if not 1 <= self.n_underlyings:
            raise ValueError(f"n_underlyings must be >= 1, got {self.n_underlyings}")
        if not 1 <= self.n_expiries <= 12:
            raise ValueError(f"n_expiries must be 1..12, got {self.n_expiries}")
        if not 2 <= self.strikes_per_side <= 50:
            raise ValueError(f"strikes_per_side must be 2..50, got {self.strikes_per_side}")
        for name in (
            "option_prints_per_second",
            "option_quotes_per_print",
            "equity_quotes_per_second",
            "equity_prints_per_second",
            "dark_prints_per_second",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")


def big_config(
    seed: int = 0, option_prints: int = 1_000_000, minutes: int = 60, *, wide: bool = False
) -> SynthConfig:
    """A session with about `option_prints` background option prints (for benchmarks);
    `wide`: on a chain of about 306,000 contracts (140 underlyings, 12 expiries,
    50 strikes a side) instead of about a thousand."""
    config = SynthConfig(
        seed=seed,
        minutes=minutes,
        option_prints_per_second=option_prints / (minutes * 60),
        option_quotes_per_print=1.5,
        planted_per_kind=20,
    )
    if wide:
        config = msgspec.structs.replace(
            config, n_underlyings=140, n_expiries=12, strikes_per_side=50
        )
    return config


def hard_config(seed: int = 0, minutes: int = 10, n_underlyings: int = 24) -> SynthConfig:
    """The hard profile at a size that plants 60 of every kind and structure in about a second
    (the session of `flowtape synth --hard --seed SEED`)."""
    return SynthConfig(seed=seed, minutes=minutes, n_underlyings=n_underlyings, profile="hard")
