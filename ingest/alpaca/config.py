"""Settings of the Alpaca options source (frozen; unknown fields rejected)."""

from __future__ import annotations

import os

import msgspec

from schemas.errors import ConfigError

API_KEY_ENV = "ALPACA_API_KEY"
SECRET_KEY_ENV = "ALPACA_SECRET_KEY"  # noqa: S105  (the name of a variable, not a secret)


class AlpacaOptionsConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Which option contracts to stream, bounded as the original system did.

    Per underlying: the nearest weekly and the nearest monthly expiry within `max_dte`
    days; per expiry `strikes_per_side` strikes below and above spot within
    `band_pct` of spot (widened to `fallback_band_pct` when the band holds too few);
    calls and puts; at most `max_quotes` contracts in total.
    """

    underlyings: list[str]
    feed: str = "opra"  # or "indicative"
    max_dte: int = 30
    strikes_per_side: int = 8
    band_pct: float = 0.06
    fallback_band_pct: float = 0.10
    max_quotes: int = 200
    source: str = "alpaca"


class MissingAlpacaKeys(ConfigError):
    """No Alpaca key pair in the environment."""


def alpaca_keys() -> tuple[str, str]:
    """(`ALPACA_API_KEY`, `ALPACA_SECRET_KEY`); refuses missing values."""
    key = os.environ.get(API_KEY_ENV, "").strip()
    secret = os.environ.get(SECRET_KEY_ENV, "").strip()
    if not key or not secret:
        raise MissingAlpacaKeys(f"expected ${API_KEY_ENV} and ${SECRET_KEY_ENV}, found none")
    return key, secret
