"""The bounded queue between providers and the publisher, and its loss policy.

`put` never blocks a provider. With the queue filled to
- 80 % (`HEARTBEAT_SHED`): arriving heartbeats are dropped;
- 90 % (`QUOTE_CONFLATE`): an arriving quote replaces the pending quote of its provider and
  symbol (the latest is kept, at the back of the queue);
- 100 %: the oldest pending event of the least valuable kind goes (heartbeats, then
  quotes, mark prices, book updates, other records, and trades only when nothing else is
  left); an arriving event of a less valuable kind than everything pending is dropped itself.
Every loss is counted by kind and provider, and the next `take` starts with one
`ProviderGap(reason="backpressure")` per provider saying how many of each kind were lost
and when they had arrived. Health is `degraded` for `degraded_hold_s` after a loss.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, OrderedDict, deque
from dataclasses import dataclass, field
from typing import Any

from schemas.crypto import (
    BookUpdate,
    CryptoQuote,
    CryptoTrade,
    MarkPrice,
    ProviderGap,
    ProviderHeartbeat,
)
from schemas.events import Event, Heartbeat, event_tag

HEARTBEAT_SHED = 0.8
QUOTE_CONFLATE = 0.9

# Lower drops first.
_HEARTBEAT, _QUOTE, _MARK, _BOOK, _OTHER, _TRADE = range(6)
_KINDS: dict[type[Event], int] = {
    ProviderHeartbeat: _HEARTBEAT,
    Heartbeat: _HEARTBEAT,
    CryptoQuote: _QUOTE,
    MarkPrice: _MARK,
    BookUpdate: _BOOK,
    CryptoTrade: _TRADE,
}


@dataclass
class _Loss:
    dropped: Counter[str] = field(default_factory=Counter)
    first_ts_recv: int = 0
    last_ts_recv: int = 0

    def add(self, event: Event) -> None:
        if not self.dropped:
            self.first_ts_recv = event.ts_recv
        self.first_ts_recv = min(self.first_ts_recv, event.ts_recv)
        self.last_ts_recv = max(self.last_ts_recv, event.ts_recv)
        self.dropped[event_tag(type(event))] += 1


class BackpressureQueue:
    """Pending events in arrival order, at most `capacity` (gap records aside)."""

    def __init__(self, capacity: int, degraded_hold_s: float = 30.0) -> None:
        if capacity < 10:
            raise ValueError(f"capacity must be at least 10, got {capacity}")
        self.capacity = capacity
        self.degraded_hold_s = degraded_hold_s
        self._next = 0
        self._events: OrderedDict[int, Event] = OrderedDict()
        self._by_kind: list[deque[int]] = [deque() for _ in range(6)]
        self._quote_slot: dict[tuple[str, str], int] = {}
        self._losses: dict[str, _Loss] = {}
        self._ready = asyncio.Event()
        self.dropped: Counter[str] = Counter()  # by event tag, over the queue's life
        self.conflated = 0
        self.offered = 0  # every put: each is taken once or counted in `dropped`
        self.accepted = 0
        self.gap_events = 0
        self._last_loss = -float("inf")

    def __len__(self) -> int:
        return len(self._events)

    @property
    def fill(self) -> float:
        return len(self._events) / self.capacity

    @property
    def state(self) -> str:
        fill = self.fill
        if fill >= 1.0:
            return "dropping"
        if fill >= QUOTE_CONFLATE:
            return "conflating"
        if fill >= HEARTBEAT_SHED:
            return "shedding_heartbeats"
        return "ok"

    @property
    def idle(self) -> bool:
        """Nothing pending and no loss left to report."""
        return not self._events and not self._losses

    @property
    def degraded(self) -> bool:
        return time.monotonic() - self._last_loss < self.degraded_hold_s

    def put(self, event: Event) -> None:
        self.offered += 1
        kind = _KINDS.get(type(event), _OTHER)
        fill = self.fill
        if kind == _HEARTBEAT and fill >= HEARTBEAT_SHED:
            self._lose(event)
            return
        if isinstance(event, CryptoQuote) and fill >= QUOTE_CONFLATE:
            previous = self._quote_slot.get((event.source, event.venue_symbol))
            if previous is not None and previous in self._events:
                self.conflated += 1
                self._lose(self._events.pop(previous))
        if len(self._events) >= self.capacity and not self._make_room(kind):
            self._lose(event)
            return
        slot = self._next
        self._next += 1
        self._events[slot] = event
        self._by_kind[kind].append(slot)
        if isinstance(event, CryptoQuote):
            self._quote_slot[(event.source, event.venue_symbol)] = slot
        self.accepted += 1
        self._ready.set()

    def _make_room(self, arriving: int) -> bool:
        """Drop the oldest pending event of the least valuable kind below or at `arriving`'s;
        False when everything pending is worth more than the arriving event."""
        for kind in range(arriving + 1):
            slots = self._by_kind[kind]
            while slots:
                slot = slots.popleft()
                event = self._events.pop(slot, None)
                if event is not None:
                    self._lose(event)
                    return True
        return False

    def _lose(self, event: Event) -> None:
        source = str(getattr(event, "source", ""))
        self._losses.setdefault(source, _Loss()).add(event)
        self.dropped[event_tag(type(event))] += 1
        self._last_loss = time.monotonic()

    def take(self, limit: int) -> list[Event]:
        """Up to `limit` events in arrival order, after the gap records of any losses."""
        out: list[Event] = self._gaps()
        for _ in range(min(limit, len(self._events))):
            out.append(self._events.popitem(last=False)[1])
        # the slots just taken lead their kind's list (conflated ones follow them there)
        for slots in self._by_kind:
            while slots and slots[0] not in self._events:
                slots.popleft()
        if not self._events:
            self._ready.clear()
            self._quote_slot.clear()
        return out

    def _gaps(self) -> list[Event]:
        gaps: list[Event] = []
        for source, loss in sorted(self._losses.items()):
            gaps.append(
                ProviderGap(
                    ts_recv=loss.last_ts_recv,
                    source=source,
                    venue="",
                    symbol="",
                    reason="backpressure",
                    dropped=dict(sorted(loss.dropped.items())),
                    first_ts_recv=loss.first_ts_recv,
                    last_ts_recv=loss.last_ts_recv,
                    detail="publisher queue full",
                )
            )
        self._losses.clear()
        self.gap_events += len(gaps)
        return gaps

    async def wait(self, timeout_s: float) -> None:
        """Until an event is pending (or losses wait to be reported), at most `timeout_s`."""
        if not self.idle:
            return
        try:
            await asyncio.wait_for(self._ready.wait(), timeout_s)
        except TimeoutError:
            return

    def stats(self) -> dict[str, Any]:
        return {
            "size": len(self._events),
            "capacity": self.capacity,
            "fill_pct": round(100 * self.fill, 2),
            "state": self.state,
            "degraded": self.degraded,
            "offered": self.offered,
            "accepted": self.accepted,
            "dropped": dict(sorted(self.dropped.items())),
            "conflated_quotes": self.conflated,
            "gap_events": self.gap_events,
        }
