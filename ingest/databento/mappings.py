"""instrument_id -> symbol by UTC day, from DBN metadata and live SymbolMappingMsg records.

It answers as `databento.common.symbology.InstrumentMap` does: of an instrument's intervals
that start on or before the day, the one that starts last, if the day is before its end
(among intervals of one instrument starting on the same day, which real mappings never
have, the latest inserted). InstrumentMap keeps one NumPy array of every
instrument, which each lookup converts whole (uint64 ids against a Python int) and each
insert sorts again: a file of 300,000 instruments took 100 s to decode. Here each instrument
has its own short sorted list: a lookup is a bisection, an insert one list insertion.
"""

from __future__ import annotations

import bisect
import datetime as dt
import sys
from typing import Any

import databento_dbn as dbn

from schemas.events import UNDEF_TIMESTAMP

EPOCH = dt.date(1970, 1, 1)
NS_PER_DAY = 86_400_000_000_000
_BEFORE_ALL, _AFTER_ALL = -sys.maxsize, sys.maxsize  # an open start or end

# (first day, insertion number, end day (excluded), symbol), sorted
Interval = tuple[int, int, int, str]


def _day(value: Any) -> int:
    """Days since 1970-01-01 (UTC) of a metadata date."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.UTC).date() if value.tzinfo else value.date()
    elif isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    if not isinstance(value, dt.date):
        raise ValueError(f"a symbol mapping's date is {value!r}, not a date")
    return (value - EPOCH).days


def _ts_day(ts: int, undefined: int) -> int:
    return undefined if ts == UNDEF_TIMESTAMP else ts // NS_PER_DAY


class SymbolMappings:
    """The symbol of each instrument id on each UTC day, as far as mappings tell."""

    def __init__(self) -> None:
        self._intervals: dict[int, list[Interval]] = {}
        self._inserted = 0

    def _insert(self, instrument_id: int, first: int, end: int, symbol: str) -> None:
        self._inserted += 1
        bisect.insort(
            self._intervals.setdefault(instrument_id, []), (first, self._inserted, end, symbol)
        )

    def insert_metadata(self, metadata: dbn.Metadata) -> None:
        """The mappings of a file's (or live session's) metadata; one side of each must be
        an instrument id (ValueError otherwise, or for an id that is not a number)."""
        by_id_in = metadata.stype_in == dbn.SType.INSTRUMENT_ID  # type: ignore[comparison-overlap]
        if not by_id_in and metadata.stype_out != dbn.SType.INSTRUMENT_ID:  # type: ignore[comparison-overlap]
            raise ValueError("either stype_in or stype_out must be instrument_id to map symbols")
        for symbol_in, entries in metadata.mappings.items():
            for entry in entries:
                symbol_out = entry["symbol"]
                if not symbol_out:
                    continue  # an empty mapping
                number, symbol = (symbol_in, symbol_out) if by_id_in else (symbol_out, symbol_in)
                try:
                    instrument_id = int(number)
                except (TypeError, ValueError):
                    raise ValueError(f"failed to parse {number!r} as an instrument_id") from None
                self._insert(
                    instrument_id, _day(entry["start_date"]), _day(entry["end_date"]), str(symbol)
                )

    def insert_record(self, record: dbn.SymbolMappingMsg) -> None:
        """A live SymbolMappingMsg (an open start or end covers every day before or after)."""
        out = record.stype_out_symbol
        self._insert(
            record.instrument_id,
            _ts_day(record.start_ts, _BEFORE_ALL),
            _ts_day(record.end_ts, _AFTER_ALL),
            record.stype_in_symbol if out.isdigit() else out,
        )

    def resolve(self, instrument_id: int, day: int) -> str | None:
        """The symbol of `instrument_id` on UTC day `day` (days since 1970-01-01), if mapped."""
        intervals = self._intervals.get(instrument_id)
        if not intervals:
            return None
        at = bisect.bisect_right(intervals, (day, _AFTER_ALL)) - 1
        if at < 0:
            return None
        _, _, end, symbol = intervals[at]
        return symbol if day < end else None
