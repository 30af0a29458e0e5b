"""Settings of the Alpaca options source (frozen; unknown fields rejected).

The key pair comes from `infra.settings.Settings` (`alpaca_api_key`, `alpaca_secret_key`),
handed over by whoever builds the config.
"""

from __future__ import annotations

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
    api_key: str = ""
    secret_key: str = ""


class MissingAlpacaKeys(ConfigError):
    """No Alpaca key pair in the settings."""


def alpaca_keys(api_key: str, secret_key: str) -> tuple[str, str]:
    """The key pair a config was given (`ALPACA_API_KEY`, `ALPACA_SECRET_KEY`); refuses
    missing values."""
    key = api_key.strip()
    secret = secret_key.strip()
    if not key or not secret:
        raise MissingAlpacaKeys(f"expected ${API_KEY_ENV} and ${SECRET_KEY_ENV}, found none")
    return key, secret
