"""Settings of the Databento sources (frozen; unknown fields rejected).

The API key comes from `infra.settings.Settings.databento_api_key`, handed over by whoever
builds the config. A request's `stype_in` left empty is told by its symbols (`stype_of`):
parents such as `CL.FUT`, `LO.OPT` or `AAPL.OPT`, continuous contracts such as `ES.c.0`, else
raw symbols.
"""

from __future__ import annotations

import re

import msgspec

from schemas.errors import ConfigError

API_KEY_ENV = "DATABENTO_API_KEY"
_PLACEHOLDERS = frozenset({"", "changeme", "db-xxx", "your-api-key", "DATABENTO_API_KEY"})
_PARENT = re.compile(r"^[A-Z0-9]+\.(FUT|OPT|SPOT|MLEG)$")
_CONTINUOUS = re.compile(r"^[A-Z0-9]+\.[cnv]\.[0-9]+$")
# Datasets whose instruments are named and classified by their definitions alone: their
# Historical and Live requests bring the `definition` schema with them.
DEFINITION_DATASETS = frozenset({"GLBX.MDP3"})


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
    """A `databento.Live` subscription (one per schema); on a `DEFINITION_DATASETS` dataset
    the `definition` schema is subscribed first when not listed."""

    dataset: str
    schemas: list[str]
    symbols: list[str]
    stype_in: str = ""
    start: str | None = None
    source: str = "databento"
    emit_venue_quotes: bool = False
    emit_books: bool = False
    api_key: str = ""


class DatabentoHistoricalConfig(
    msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True
):
    """A `databento.Historical` range request, saved as a DBN file before it is normalised;
    on a `DEFINITION_DATASETS` dataset the definitions from the start's UTC midnight to the
    end come with it (CME publishes them once a day, at the start of the session)."""

    dataset: str
    schema: str
    symbols: list[str]
    start: str
    end: str
    stype_in: str = ""
    download_dir: str = ".flowtape/databento"
    source: str = "databento"
    emit_venue_quotes: bool = False
    emit_books: bool = False
    api_key: str = ""


class BadSymbols(ConfigError):
    """Symbols of a Databento request that mix symbology types."""


def stype_of(symbols: list[str], given: str = "") -> str:
    """The symbology type of a request: `given` when set, else the one `symbols` share
    (`parent`, `continuous` or `raw_symbol`)."""
    if given:
        return given
    kinds = {
        "parent" if _PARENT.match(s) else "continuous" if _CONTINUOUS.match(s) else "raw_symbol"
        for s in symbols
    }
    if len(kinds) > 1:
        raise BadSymbols(
            f"expected symbols of one symbology type (parent like CL.FUT, continuous like "
            f"ES.c.0, or raw), got {', '.join(sorted(kinds))} in {symbols}"
        )
    return kinds.pop() if kinds else "raw_symbol"


class MissingApiKey(ConfigError):
    """No usable Databento API key in the settings."""


def api_key(given: str) -> str:
    """The API key a config was given (`DATABENTO_API_KEY`); refuses a missing or placeholder
    value."""
    key = given.strip()
    if key in _PLACEHOLDERS:
        raise MissingApiKey(f"expected a Databento API key in ${API_KEY_ENV}, found none")
    return key
