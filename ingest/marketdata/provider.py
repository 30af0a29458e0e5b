"""The loop every WebSocket provider runs: frames to events, silence to synthetic
heartbeats, a reconnect to a gap event (after which the venue's ids may tell more)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Protocol

from ingest.marketdata.clock import ReceiveClock
from ingest.marketdata.feed import FeedSettings, Frame, Reconnected, Silence, WebSocketFeed
from ingest.marketdata.symbology import SymbolTable, default_table
from schemas.crypto import ProviderGap, ProviderHeartbeat
from schemas.events import Event


class ProviderConfig(Protocol):
    """The connection settings every provider's config has."""

    @property
    def symbols(self) -> list[str]: ...
    @property
    def silence_s(self) -> float: ...
    @property
    def stall_s(self) -> float: ...
    @property
    def backoff_base_s(self) -> float: ...
    @property
    def backoff_max_s(self) -> float: ...


class WebSocketProvider:
    """Base of the venue adapters: subclasses say what a frame and a reconnect mean.

    The symbols are checked against the symbology table first: an unlisted one refuses to
    start (`UnknownSymbol`).
    """

    def __init__(
        self,
        name: str,
        venue: str,
        url: str,
        config: ProviderConfig,
        subscriptions: Callable[[], list[str]],
        *,
        table: SymbolTable | None,
        clock: ReceiveClock | None,
        keepalive: tuple[Callable[[], str], float] | None = None,
    ) -> None:
        self.name = name
        self.venue = venue
        self.table = table or default_table()
        self.instruments = self.table.require(venue, config.symbols)
        self.clock = clock or ReceiveClock()
        settings = FeedSettings(
            url=url,
            silence_s=config.silence_s,
            stall_s=config.stall_s,
            backoff_base_s=config.backoff_base_s,
            backoff_max_s=config.backoff_max_s,
            keepalive_s=keepalive[1] if keepalive else 0.0,
        )
        self.feed = WebSocketFeed(
            settings, subscriptions, self.clock, keepalive=keepalive[0] if keepalive else None
        )

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        await self.feed.close()

    async def on_frame(self, frame: Frame) -> AsyncIterator[Event]:
        raise NotImplementedError
        yield  # pragma: no cover  (makes this an async generator)

    def on_reconnect(self) -> None:
        """Forget what the new connection will send again (books wait for snapshots)."""

    async def events(self) -> AsyncIterator[Event]:
        async for item in self.feed.items():
            if isinstance(item, Frame):
                async for event in self.on_frame(item):
                    yield event
            elif isinstance(item, Silence):
                yield ProviderHeartbeat(
                    ts_recv=item.ts_recv,
                    source=self.name,
                    synthetic=True,
                    silence_ns=item.silence_ns,
                )
            else:
                self.on_reconnect()
                yield self._reconnect_gap(item)

    def _reconnect_gap(self, item: Reconnected) -> ProviderGap:
        return ProviderGap(
            ts_recv=item.ts_recv,
            source=self.name,
            venue=self.venue,
            symbol="",
            reason="reconnect",
            detail=f"down {item.down_ns / 1e9:.3f}s, {item.attempts} attempts: {item.error}",
        )
