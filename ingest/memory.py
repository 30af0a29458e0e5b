"""A source over events already in memory (recorded sessions, tests, replays)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable

from schemas.events import Event


class IterableSource:
    """Yields the given events; with `pause_every`, yields control every so many events."""

    def __init__(self, name: str, events: Iterable[Event], pause_every: int = 1000) -> None:
        self.name = name
        self._events = events
        self._pause_every = pause_every

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def events(self) -> AsyncIterator[Event]:
        for index, event in enumerate(self._events, 1):
            yield event
            if index % self._pause_every == 0:
                await asyncio.sleep(0)
