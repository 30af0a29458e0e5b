"""Failover between two providers of the same instruments (e.g. Binance -> Bybit).

Both providers stay connected; only the active one's events are published. Every
`check_interval_s` each provider gets a health check: healthy when market data arrived
within `max_silence_s` (local receive time) and it reported no gap and at most
`max_errors` quarantined frames since the last check. After `bad_checks_to_switch` bad
checks in a row of the active provider (while the other is healthy) the manager switches
and opens a new failover epoch; it switches back to the primary after
`good_checks_to_return` healthy checks in a row of the primary. A switch is itself an
event (`ProviderSwitch`), and the provider switched to resynchronises its books (its
stream was not published meanwhile), so they start again from a snapshot.

Every published crypto event carries the epoch. Per venue, symbol and event type a
sequence mark drops anything at or below what was already published (book snapshots
excepted), so a provider that comes back and sends again what it sent before the switch
adds nothing twice.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import msgspec

from infra.tasks import cancel_and_wait
from ingest.marketdata.clock import ReceiveClock
from ingest.source import Source
from schemas.crypto import (
    BookUpdate,
    CryptoMarketEvent,
    CryptoTrade,
    ProviderGap,
    ProviderHeartbeat,
    ProviderSwitch,
)
from schemas.events import Event, Quarantined


@runtime_checkable
class BookProvider(Protocol):
    def on_reconnect(self) -> None: ...


@dataclass(frozen=True)
class FailoverSettings:
    group: str
    check_interval_s: float = 1.0
    max_silence_s: float = 3.0
    max_errors: int = 0
    bad_checks_to_switch: int = 3
    good_checks_to_return: int = 30


@dataclass
class ProviderHealth:
    """What one provider did since the last check, and its run of check results."""

    last_data: float = 0.0
    gaps: int = 0
    errors: int = 0
    bad_run: int = 0
    good_run: int = 0

    def saw(self, event: Event, now: float) -> None:
        if isinstance(event, CryptoMarketEvent):
            self.last_data = now
        elif isinstance(event, ProviderGap):
            self.gaps += 1
        elif isinstance(event, Quarantined):
            self.errors += 1

    def check(self, now: float, settings: FailoverSettings) -> bool:
        healthy = (
            now - self.last_data <= settings.max_silence_s
            and self.gaps == 0
            and self.errors <= settings.max_errors
        )
        self.gaps = self.errors = 0
        self.good_run = self.good_run + 1 if healthy else 0
        self.bad_run = 0 if healthy else self.bad_run + 1
        return healthy


class SequenceMarks:
    """The highest venue sequence published per (venue, symbol, type); trade ids at it."""

    def __init__(self) -> None:
        self._marks: dict[tuple[str, str, type], tuple[int, set[str]]] = {}
        self.repeats = 0

    def admit(self, event: CryptoMarketEvent) -> bool:
        key = (event.venue, event.venue_symbol, type(event))
        trade_id = event.trade_id if isinstance(event, CryptoTrade) else ""
        mark = self._marks.get(key)
        if isinstance(event, BookUpdate) and event.snapshot:
            self._marks[key] = (event.sequence, {trade_id})
            return True
        if mark is not None:
            sequence, ids = mark
            if event.sequence < sequence or (event.sequence == sequence and trade_id in ids):
                self.repeats += 1
                return False
            if event.sequence == sequence:
                ids.add(trade_id)
                return True
        self._marks[key] = (event.sequence, {trade_id})
        return True


class FailoverSource:
    """A Source over a primary and a backup provider (see the module notes)."""

    def __init__(
        self,
        primary: Source,
        backup: Source,
        settings: FailoverSettings,
        clock: ReceiveClock | None = None,
    ) -> None:
        self.name = settings.group
        self.primary = primary
        self.backup = backup
        self.settings = settings
        self.clock = clock or ReceiveClock()
        self.active: Source = primary
        self.epoch = 0
        self.health = {primary.name: ProviderHealth(), backup.name: ProviderHealth()}
        self.marks = SequenceMarks()
        self.standby_events: Counter[str] = Counter()
        self.switches = 0
        self.checks = 0
        self._queue: asyncio.Queue[tuple[Source, Event | None]] = asyncio.Queue(maxsize=10_000)
        self._tasks: list[asyncio.Task[None]] = []

    async def connect(self) -> None:
        await self.primary.connect()
        await self.backup.connect()
        started = time.monotonic()
        for health in self.health.values():
            health.last_data = started  # a grace period of one silence to start
        self._tasks = [
            asyncio.create_task(self._pump(p), name=f"failover-{p.name}")
            for p in (self.primary, self.backup)
        ]

    async def close(self) -> None:
        for provider in (self.primary, self.backup):
            await provider.close()
        await cancel_and_wait(self._tasks)

    async def _pump(self, provider: Source) -> None:
        try:
            async for event in provider.events():
                await self._queue.put((provider, event))
        finally:
            self._queue.put_nowait((provider, None))

    async def events(self) -> AsyncIterator[Event]:
        ended = 0
        next_check = time.monotonic() + self.settings.check_interval_s
        while ended < 2:
            timeout = max(0.0, next_check - time.monotonic())
            try:
                provider, event = await asyncio.wait_for(self._queue.get(), timeout)
            except TimeoutError:
                next_check += self.settings.check_interval_s
                switch = self._check()
                if switch is not None:
                    yield switch
                continue
            if event is None:
                ended += 1
                continue
            self.health[provider.name].saw(event, time.monotonic())
            published = self._publishable(provider, event)
            if published is not None:
                yield published

    def _publishable(self, provider: Source, event: Event) -> Event | None:
        if provider is not self.active:
            self.standby_events[type(event).__name__] += 1
            return None
        if isinstance(event, CryptoMarketEvent) and not self.marks.admit(event):
            return None
        if isinstance(event, CryptoMarketEvent | ProviderGap | ProviderHeartbeat):
            return msgspec.structs.replace(event, epoch=self.epoch)
        return event

    def _check(self) -> ProviderSwitch | None:
        self.checks += 1
        now = time.monotonic()
        healthy = {name: h.check(now, self.settings) for name, h in self.health.items()}
        active = self.health[self.active.name]
        other = self.backup if self.active is self.primary else self.primary
        if self.active is self.primary:
            if active.bad_run >= self.settings.bad_checks_to_switch and healthy[other.name]:
                return self._switch(other, f"{active.bad_run} bad health checks")
        elif self.health[self.primary.name].good_run >= self.settings.good_checks_to_return:
            return self._switch(self.primary, f"primary healthy for {self.primary_good_run} checks")
        elif active.bad_run >= self.settings.bad_checks_to_switch and healthy[other.name]:
            return self._switch(other, f"backup failing: {active.bad_run} bad health checks")
        return None

    @property
    def primary_good_run(self) -> int:
        return self.health[self.primary.name].good_run

    def _switch(self, to: Source, reason: str) -> ProviderSwitch:
        previous, self.active = self.active, to
        self.epoch += 1
        self.switches += 1
        for health in self.health.values():
            health.bad_run = health.good_run = 0
        if isinstance(to, BookProvider):
            to.on_reconnect()
        return ProviderSwitch(
            ts_recv=self.clock.now(),
            source=self.name,
            failover_group=self.name,
            from_source=previous.name,
            to_source=to.name,
            reason=reason,
            epoch=self.epoch,
        )
