"""Settings of the Databento sources (frozen; unknown fields rejected).

The API key comes from `infra.settings.Settings.databento_api_key`, handed over by whoever
builds the config.
"""

from __future__ import annotations

import msgspec

from schemas.errors import ConfigError

API_KEY_ENV = "DATABENTO_API_KEY"
_PLACEHOLDERS = frozenset({"", "changeme", "db-xxx", "your-api-key", "DATABENTO_API_KEY"})


class DatabentoFileConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """DBN files replayed as one canonical stream.

    `emit_books`: MBO and MBP-10 records become order-book events (else they are ignored).
    `reorder_window_ns`: 0 for files sorted by `ts_recv` (Databento historical files are);
    a positive value tolerates that much disorder; None sorts each file in memory (small
    live recordings, which interleave schemas out of time order).
    """

    paths: list[str]
    source: str = "databento"
    reorder_window_ns: int | None = 0
    emit_venue_quotes: bool = False
    emit_books: bool = False
    chunk_bytes: int = 1 << 20
    yield_every: int = 2_000


class DatabentoLiveConfig(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A `databento.Live` subscription (one per schema)."""

    dataset: str
    schemas: list[str]
    symbols: list[str]
    stype_in: str = "raw_symbol"
    start: str | None = None
    source: str = "databento"
    emit_venue_quotes: bool = False
    emit_books: bool = False
    api_key: str = ""


class DatabentoHistoricalConfig(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """A `databento.Historical` range request, saved as a DBN file before it is normalised."""

    dataset: str
    schema: str
    symbols: list[str]
    start: str
    end: str
    stype_in: str = "raw_symbol"
    download_dir: str = ".flowtape/databento"
    source: str = "databento"
    emit_venue_quotes: bool = False
    emit_books: bool = False
    api_key: str = ""


class MissingApiKey(ConfigError):
    """No usable Databento API key in the settings."""


def api_key(given: str) -> str:
    """The API key a config was given (`DATABENTO_API_KEY`); refuses a missing or placeholder
    value."""
    key = given.strip()
    if key in _PLACEHOLDERS:
        raise MissingApiKey(f"expected a Databento API key in ${API_KEY_ENV}, found none")
    return key
