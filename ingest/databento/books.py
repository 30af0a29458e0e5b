"""Databento MBO and MBP-10 records -> order-book events (`schemas.book`).

A venue event of one instrument is normalised by Databento into several records, the last
flagged `F_LAST`; `BookEvents` collects them per (schema, publisher, instrument) and emits
one `MboEvent` / `Mbp10Event` when the `F_LAST` record arrives, so the records keep their
feed order through the canonical order (see `schemas.book`). A stream that ends inside an
event (a cut file, a truncated sample) gives up its unfinished events on `flush`, counted
as `book_event_without_last`.

One `BookEvents` belongs to one stream: a file's records must not close or flush another
file's events. The record's own checks (action, side) are made here; who it is about comes
from `Symbology.name` (a book is kept for any instrument class, futures and spreads too).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import databento_dbn as dbn

from ingest.databento.symbology import Publisher
from schemas.book import (
    ACTIONS,
    F_LAST,
    SIDES,
    BookLevel,
    MboEvent,
    MboRecord,
    Mbp10Event,
    Mbp10Record,
)
from schemas.events import UNDEF_PRICE, Event

BOOK_RECORDS = (dbn.MBOMsg, dbn.MBP10Msg)
WITHOUT_LAST = "book_event_without_last"


def mbo_record(record: dbn.MBOMsg, action: str, side: str) -> MboRecord:
    """One MBO record's fields (the undefined price as None)."""
    price = record.price
    return MboRecord(
        record.ts_event,
        record.sequence,
        action,
        side,
        None if price == UNDEF_PRICE else price,
        record.size,
        record.order_id,
        int(record.flags),
    )


def mbp10_record(record: dbn.MBP10Msg, action: str, side: str) -> Mbp10Record:
    """One MBP-10 record's fields with its levels as given, up to the first undefined one."""
    bids: list[BookLevel] = []
    asks: list[BookLevel] = []
    for level in record.levels:
        if level.bid_px != UNDEF_PRICE:
            bids.append(BookLevel(level.bid_px, level.bid_sz, level.bid_ct))
        if level.ask_px != UNDEF_PRICE:
            asks.append(BookLevel(level.ask_px, level.ask_sz, level.ask_ct))
    price = record.price
    return Mbp10Record(
        record.ts_event,
        record.sequence,
        action,
        side,
        record.depth,
        None if price == UNDEF_PRICE else price,
        record.size,
        int(record.flags),
        bids,
        asks,
    )


def book_event(
    source: str,
    pub: Publisher,
    symbol: str,
    ts_recv: int,
    instrument_id: int,
    records: list[Any],
) -> MboEvent | Mbp10Event:
    """The venue event made of `records` (all MBO or all MBP-10), stamped with its last."""
    last = records[-1]
    event_type = MboEvent if isinstance(last, MboRecord) else Mbp10Event
    return event_type(
        ts_recv=ts_recv,
        ts_event=last.ts_event,
        publisher_id=pub.publisher_id,
        instrument_id=instrument_id,
        source=source,
        symbol=symbol,
        venue=pub.venue,
        sequence=last.sequence,
        records=records,
    )


class _Pending:
    """The records of one unfinished venue event."""

    __slots__ = ("pub", "records", "symbol", "ts_recv")

    def __init__(self, pub: Publisher, symbol: str, ts_recv: int) -> None:
        self.pub = pub
        self.symbol = symbol
        self.ts_recv = ts_recv
        self.records: list[Any] = []


class BookEvents:
    """Groups one stream's MBO / MBP-10 records into venue events."""

    def __init__(self, source: str, counters: Counter[str]) -> None:
        self.source = source
        self.counters = counters
        self._pending: dict[tuple[int, int, int], _Pending] = {}

    @staticmethod
    def fields(record: Any) -> tuple[str, str]:
        """A record's action and side as Databento's characters."""
        action, side = record.action, record.side
        return getattr(action, "value", action), getattr(side, "value", side)

    @staticmethod
    def problem(action: str, side: str) -> tuple[str, str] | None:
        """A quarantine reason and detail for a record that cannot be an order-book record."""
        if action not in ACTIONS:
            return "unknown_action", f"action={action!r}"
        if side not in SIDES:
            return "unknown_side", f"side={side!r}"
        return None

    def add(self, record: Any, action: str, side: str, pub: Publisher, symbol: str) -> list[Event]:
        """Take one checked record; the finished venue event when it carries `F_LAST`."""
        is_mbo = type(record) is dbn.MBOMsg
        key = (0 if is_mbo else 1, pub.publisher_id, record.instrument_id)
        pending = self._pending.get(key)
        ts_recv = record.ts_recv
        if pending is None:
            pending = self._pending[key] = _Pending(pub, symbol, ts_recv)
        pending.ts_recv = ts_recv
        if is_mbo:
            built: Any = mbo_record(record, action, side)
        else:
            built = mbp10_record(record, action, side)
        pending.records.append(built)
        if not built.flags & F_LAST:
            return []
        del self._pending[key]
        return [self._event(key, pending)]

    def flush(self) -> list[Event]:
        """The unfinished events of a stream that has ended, oldest first."""
        pending = sorted(self._pending.items(), key=lambda item: item[1].ts_recv)
        self._pending.clear()
        if pending:
            self.counters[WITHOUT_LAST] += len(pending)
        return [self._event(key, group) for key, group in pending]

    def _event(self, key: tuple[int, int, int], pending: _Pending) -> Event:
        return book_event(
            self.source, pending.pub, pending.symbol, pending.ts_recv, key[2], pending.records
        )
