"""What every venue normaliser shares: JSON decoding, quarantine records with their
reasons, the instrument fields of an event, and counters."""

from __future__ import annotations

from collections import Counter
from typing import Any

import msgspec

from ingest.marketdata.frames import quarantined
from ingest.marketdata.numbers import BadNumber
from ingest.marketdata.symbology import Instrument, SymbolTable
from schemas.crypto import BookUpdate, GapReason, ProviderGap
from schemas.events import Event, Quarantined

_decode = msgspec.json.Decoder().decode


class VenueNormaliser:
    """Frames of one venue -> events; never raises on bad input. Subclasses read a decoded
    message in `message()`; a BadNumber they raise quarantines the frame."""

    def __init__(self, venue: str, source: str, table: SymbolTable) -> None:
        self.venue = venue
        self.source = source
        self.table = table
        self.counters: Counter[str] = Counter()

    def message(self, message: dict[str, Any], ts_recv: int, text: str) -> list[Event]:
        raise NotImplementedError

    def frame(self, text: str, ts_recv: int) -> list[Event]:
        """One WebSocket text frame."""
        try:
            message = _decode(text)
        except msgspec.DecodeError as exc:
            return [self.quarantine(ts_recv, "malformed_json", str(exc), text)]
        if not isinstance(message, dict):
            return [self.quarantine(ts_recv, "unknown_message", "not an object", text)]
        try:
            events = self.message(message, ts_recv, text)
        except BadNumber as exc:
            return [self.quarantine(ts_recv, "malformed_message", str(exc), text)]
        for event in events:
            if not isinstance(event, Quarantined):
                self.counters[type(event).__name__] += 1
        return events

    def quarantine(self, ts_recv: int, reason: str, detail: str, text: str | bytes) -> Quarantined:
        self.counters[f"quarantined:{reason}"] += 1
        return quarantined(self.source, ts_recv, reason, detail, text)

    def instrument(self, venue_symbol: object) -> Instrument | None:
        """The table's instrument (refusals are counted by the table)."""
        if not isinstance(venue_symbol, str):
            return None
        return self.table.lookup(self.venue, venue_symbol)

    def common(self, instrument: Instrument, ts_recv: int) -> dict[str, Any]:
        """The fields every market event of `instrument` carries."""
        return {
            "ts_recv": ts_recv,
            "publisher_id": instrument.publisher_id,
            "instrument_id": instrument.instrument_id,
            "source": self.source,
            "symbol": instrument.symbol,
            "venue": self.venue,
            "venue_symbol": instrument.venue_symbol,
        }


def book_gap(
    update: BookUpdate, reason: GapReason, first: int, last: int, what: str
) -> ProviderGap:
    """The update ids `first`..`last` of `update`'s book that never arrived."""
    return ProviderGap(
        ts_recv=update.ts_recv,
        source=update.source,
        venue=update.venue,
        symbol=update.symbol,
        reason=reason,
        first_missed=first,
        last_missed=last,
        detail=what,
    )
