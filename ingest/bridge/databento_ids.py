"""The Databento id space: an `instrument_id` is unique only within a UTC day.

The id is (instrument_id, day of `ts_recv`), written `1234@2026-01-05`; the source's own
mapping is its symbology (the day's symbol mappings, else a definition seen), the same one
its normaliser named the events with.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from datetime import date, timedelta
from typing import Any

from ingest.databento.mappings import NS_PER_DAY
from ingest.databento.symbology import Symbology, Unresolved
from schemas.events import MarketEvent

_EPOCH = date(1970, 1, 1)
_DAY_SHIFT = 32  # a key is day << 32 | instrument_id (ids are 32-bit)


def _databento_key(event: MarketEvent) -> int:
    return event.ts_recv // NS_PER_DAY << _DAY_SHIFT | event.instrument_id


class DatabentoDayMapping:
    """(instrument_id, UTC day of `ts_recv`) -> the symbol the source's symbology gives it."""

    id_space = "databento"

    def __init__(self, symbology: Symbology) -> None:
        self.key: Callable[[MarketEvent], Hashable] = _databento_key
        self.symbology = symbology
        self._publisher_id: int | None = None  # the last seen: resolving without an event

    def parse_id(self, text: str) -> int:
        instrument, _, day = text.partition("@")
        try:
            days = (date.fromisoformat(day) - _EPOCH).days
            instrument_id = int(instrument)
        except ValueError:
            raise ValueError(f"expected instrument_id@YYYY-MM-DD, got {text!r}") from None
        if not 0 <= instrument_id < 1 << _DAY_SHIFT or days < 0:
            raise ValueError(f"expected a 32-bit instrument id on a day after 1970, got {text!r}")
        return days << _DAY_SHIFT | instrument_id

    def describe(self, key: Hashable) -> str:
        assert isinstance(key, int)  # noqa: S101  (keys come from key() or parse_id())
        day = _EPOCH + timedelta(days=key >> _DAY_SHIFT)
        return f"{key & ((1 << _DAY_SHIFT) - 1)}@{day.isoformat()}"

    def resolve(self, key: Hashable, event: Any | None) -> str | None:
        assert isinstance(key, int)  # noqa: S101
        if event is not None:
            self._publisher_id = event.publisher_id
        if self._publisher_id is None:
            return None
        named = self.symbology.name(
            self._publisher_id, key & ((1 << _DAY_SHIFT) - 1), key >> _DAY_SHIFT
        )
        return None if isinstance(named, Unresolved) else named[1]
