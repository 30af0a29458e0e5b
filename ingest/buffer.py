"""The bounded buffer between a source and the log, and its loss policy.

While the log is unreachable events wait here, within `capacity`:
1. quotes conflate (only while `stalled`: a healthy log gets every quote, so live and replay
   join prints to the same quotes): a newer quote of an instrument replaces the pending one;
2. over capacity, the oldest event that is neither a trade nor an order-book event goes
   first;
3. trades and order-book events (a lost one leaves its book wrong until the next snapshot)
   are dropped, oldest first, only when nothing else is left to drop; each drop is counted
   and the next drain begins with a `Gap` event naming how many of each were lost and when.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from schemas.book import MboEvent, Mbp10Event
from schemas.cme import CmeQuote, CmeTrade
from schemas.crypto import BookUpdate
from schemas.events import EquityPrint, EquityQuote, Event, Gap, OptionPrint, OptionQuote

TRADES = (OptionPrint, EquityPrint, CmeTrade)
BOOK_EVENTS = (MboEvent, Mbp10Event, BookUpdate)
KEPT = TRADES + BOOK_EVENTS
QUOTES = (OptionQuote, EquityQuote, CmeQuote)


@dataclass
class _Loss:
    trades: int = 0
    book_events: int = 0
    first_ts_recv: int = 0
    last_ts_recv: int = 0

    def add(self, event: Event) -> None:
        if not self.trades and not self.book_events:
            self.first_ts_recv = event.ts_recv
        if isinstance(event, TRADES):
            self.trades += 1
        else:
            self.book_events += 1
        self.last_ts_recv = event.ts_recv


class IngestBuffer:
    """Pending events in arrival order, bounded by `capacity`."""

    def __init__(self, capacity: int, source: str) -> None:
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self.source = source
        self.stalled = False
        self._next = 0
        self._kept: OrderedDict[int, Event] = OrderedDict()
        self._others: OrderedDict[int, Event] = OrderedDict()
        self._quote_slot: dict[tuple[type[Event], int, int], int] = {}
        self._loss = _Loss()
        self.conflated = 0
        self.dropped_other = 0
        self.dropped_trades = 0
        self.dropped_book_events = 0

    def __len__(self) -> int:
        return len(self._kept) + len(self._others)

    @property
    def degraded(self) -> bool:
        """True once a trade or an order-book event has been lost."""
        return self.dropped_trades + self.dropped_book_events > 0

    def add(self, event: Event) -> None:
        slot = self._next
        self._next += 1
        if isinstance(event, KEPT):
            self._kept[slot] = event
        else:
            if self.stalled and isinstance(event, QUOTES):
                key = (type(event), event.publisher_id, event.instrument_id)
                previous = self._quote_slot.pop(key, None)
                if previous is not None and self._others.pop(previous, None) is not None:
                    self.conflated += 1
                self._quote_slot[key] = slot
            self._others[slot] = event
        self._enforce_capacity()

    def _enforce_capacity(self) -> None:
        while len(self) > self.capacity:
            if self._others:
                self._others.popitem(last=False)
                self.dropped_other += 1
                continue
            _, lost = self._kept.popitem(last=False)
            self._loss.add(lost)
            if isinstance(lost, TRADES):
                self.dropped_trades += 1
            else:
                self.dropped_book_events += 1

    def drain(self) -> list[Event]:
        """Everything pending in arrival order, a `Gap` first if trades or order-book events
        were lost."""
        merged = sorted([*self._kept.items(), *self._others.items()], key=lambda kv: kv[0])
        events = [event for _, event in merged]
        if self._loss.trades or self._loss.book_events:
            loss, self._loss = self._loss, _Loss()
            events.insert(
                0,
                Gap(
                    ts_recv=loss.last_ts_recv,
                    source=self.source,
                    dropped_trades=loss.trades,
                    dropped_book_events=loss.book_events,
                    first_ts_recv=loss.first_ts_recv,
                    last_ts_recv=loss.last_ts_recv,
                    reason="ingest buffer full while the log was unreachable",
                ),
            )
        self._kept.clear()
        self._others.clear()
        self._quote_slot.clear()
        return events
