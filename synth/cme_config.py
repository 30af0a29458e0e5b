"""Configuration of one synthetic CME session: CL futures and LO options on them."""

from __future__ import annotations

import datetime as dt
import re

import msgspec

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_CLOCK = re.compile(r"\d{2}:\d{2}")
DEFAULT_QUIET_SECONDS = 30


class CmeConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything that shapes a synthetic CME session; the same config gives the same bytes.

    `n_futures` consecutive CL months are listed, LO options on the first `n_expiries` of them
    (`2 * strikes_per_side + 1` strikes each, calls and puts; the front's `strike_step` dollars
    apart, a later expiry's a whole multiple of that, growing with the root of its time).
    Futures book events arrive at `front_events_per_second` on the front month and half as
    often on each later one. `quiet_windows` are (start, length) in seconds from the open
    during which no option quote changes; None puts one window of 30 s halfway through.
    """

    seed: int = 0
    date: str = "2025-02-20"
    start: str = "09:30"  # New York time of the first second
    minutes: int = 10
    n_futures: int = 3
    n_expiries: int = 2
    strikes_per_side: int = 20
    strike_step: float = 0.5
    future_vol: float = 0.35  # annualised (ACT/365) volatility of the futures' latent price
    front_events_per_second: float = 20.0
    trade_share: float = 0.35  # of the futures events that move no price
    option_size_updates_per_second: float = 0.5  # per option: size-only quote changes
    rate: float = 0.045  # continuously compounded discount rate of the option prices
    quiet_windows: list[tuple[int, int]] | None = None

    def session_date(self) -> dt.date:
        """The trading date; raises ValueError on anything but YYYY-MM-DD."""
        if not _DATE.fullmatch(self.date):
            raise ValueError(f"date must be YYYY-MM-DD, got {self.date!r}")
        return dt.date.fromisoformat(self.date)

    def windows(self) -> list[tuple[int, int]]:
        """The quiet windows as (start, length) seconds from the open, defaults resolved."""
        if self.quiet_windows is not None:
            return sorted(self.quiet_windows)
        seconds = self.minutes * 60
        length = min(DEFAULT_QUIET_SECONDS, seconds // 4)
        return [(seconds // 2, length)] if length > 0 else []

    def validate(self) -> None:
        """Raise ValueError naming the first field out of range."""
        self.session_date()
        if not _CLOCK.fullmatch(self.start) or int(self.start[:2]) > 23 or int(self.start[3:]) > 59:
            raise ValueError(f"start must be HH:MM, got {self.start!r}")
        if not 1 <= self.minutes <= 24 * 60:
            raise ValueError(f"minutes must be 1..1440, got {self.minutes}")
        if not 1 <= self.n_futures <= 12:
            raise ValueError(f"n_futures must be 1..12, got {self.n_futures}")
        if not 1 <= self.n_expiries <= self.n_futures:
            raise ValueError(
                f"n_expiries must be 1..n_futures ({self.n_futures}), got {self.n_expiries}"
            )
        if not 2 <= self.strikes_per_side <= 60:
            raise ValueError(f"strikes_per_side must be 2..60, got {self.strikes_per_side}")
        cents = self.strike_step * 100
        if self.strike_step <= 0 or abs(cents - round(cents)) > 1e-9:
            raise ValueError(
                f"strike_step must be a positive multiple of 0.01, got {self.strike_step}"
            )
        for name in ("future_vol", "front_events_per_second", "rate"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.trade_share <= 1:
            raise ValueError(f"trade_share must be 0..1, got {self.trade_share}")
        if self.option_size_updates_per_second < 0:
            raise ValueError(
                "option_size_updates_per_second must be >= 0, "
                f"got {self.option_size_updates_per_second}"
            )
        self._validate_windows()

    def _validate_windows(self) -> None:
        seconds = self.minutes * 60
        end = 0
        for start, length in self.windows():
            if start < 1 or length < 1 or start + length >= seconds:
                raise ValueError(
                    f"quiet window ({start}, {length}) must start after the open, last >= 1 s "
                    f"and end before the close at {seconds} s"
                )
            if start < end:
                raise ValueError(f"quiet window ({start}, {length}) overlaps the one before it")
            end = start + length
