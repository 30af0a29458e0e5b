"""The Binance provider: one combined-stream WebSocket per market, depth kept in sync with
REST snapshots, synthetic heartbeats on silence, gaps after reconnects.

    source = BinanceSource(BinanceConfig(symbols=["BTCUSDT", "ETHUSDT"]))
    await source.connect()
    async for event in source.events():
        ...
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import aiohttp

from ingest.binance.config import BinanceConfig
from ingest.binance.depth_sync import DepthSync
from ingest.binance.parsing import BinanceNormaliser
from ingest.marketdata.clock import ReceiveClock
from ingest.marketdata.feed import Frame
from ingest.marketdata.provider import WebSocketProvider
from ingest.marketdata.symbology import SymbolTable
from schemas.crypto import BookUpdate, CryptoTrade, ProviderGap
from schemas.events import Event


class BinanceSource(WebSocketProvider):
    """Binance spot or USDⓈ-M public market data for the configured symbols."""

    def __init__(
        self,
        config: BinanceConfig,
        *,
        table: SymbolTable | None = None,
        clock: ReceiveClock | None = None,
    ) -> None:
        self.config = config
        super().__init__(
            config.source_name,
            config.venue,
            config.stream_url,
            config,
            self._subscriptions,
            table=table,
            clock=clock,
        )
        self.normaliser = BinanceNormaliser(config.venue, self.name, self.table)
        self.syncs = {i.venue_symbol: DepthSync(config.market == "usdm") for i in self.instruments}
        self.snapshot_failures = 0
        self._last_trade: dict[str, int] = {}
        self._after_reconnect: set[str] = set()
        self._next_fetch: dict[str, float] = {}
        self._session: aiohttp.ClientSession | None = None
        self._streaming = False
        self._request_id = 0

    def _subscriptions(self) -> list[str]:
        self._request_id += 1
        body = {"method": "SUBSCRIBE", "params": self.config.streams(), "id": self._request_id}
        return [json.dumps(body)]

    async def connect(self) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.config.snapshot_timeout_s)
            )

    async def close(self) -> None:
        """Close the WebSocket; the REST session closes when `events()` ends (a snapshot
        request may be in flight until then)."""
        await self.feed.close()
        if not self._streaming:
            await self._close_session()

    async def _close_session(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def events(self) -> AsyncIterator[Event]:
        self._streaming = True
        try:
            async for event in super().events():
                yield event
        finally:
            self._streaming = False
            await self._close_session()

    async def on_frame(self, frame: Frame) -> AsyncIterator[Event]:
        for event in self.normaliser.frame(frame.text, frame.ts_recv):
            async for out in self._route(event):
                yield out

    def on_reconnect(self) -> None:
        for sync in self.syncs.values():
            sync.reconnected()
        self._after_reconnect = set(self._last_trade)

    async def _route(self, event: Event) -> AsyncIterator[Event]:
        if isinstance(event, BookUpdate):
            sync = self.syncs.get(event.venue_symbol)
            if sync is None:
                yield self.normaliser.quarantine(
                    event.ts_recv, "unsubscribed_symbol", event.venue_symbol, b""
                )
                return
            for out in sync.on_diff(event):
                yield out
            if sync.needs_snapshot:
                for out in await self._resync(event.venue_symbol, sync):
                    yield out
            return
        if isinstance(event, CryptoTrade):
            gap = self._trade_gap(event)
            if gap is not None:
                yield gap
        yield event

    def _trade_gap(self, trade: CryptoTrade) -> ProviderGap | None:
        """Aggregate trade ids run without holes per symbol: the first trade after a
        reconnect shows which ones were missed."""
        last = self._last_trade.get(trade.venue_symbol)
        self._last_trade[trade.venue_symbol] = max(trade.sequence, last or 0)
        if trade.venue_symbol not in self._after_reconnect:
            return None
        self._after_reconnect.discard(trade.venue_symbol)
        if last is None or trade.sequence <= last + 1:
            return None
        return ProviderGap(
            ts_recv=trade.ts_recv,
            source=self.name,
            venue=trade.venue,
            symbol=trade.symbol,
            reason="reconnect",
            first_missed=last + 1,
            last_missed=trade.sequence - 1,
            detail="aggregate trade ids",
        )

    async def _resync(self, venue_symbol: str, sync: DepthSync) -> list[Event]:
        """Fetch a snapshot (no more often than the backoff base) and apply it."""
        now = time.monotonic()
        if now < self._next_fetch.get(venue_symbol, 0.0):
            return []
        self._next_fetch[venue_symbol] = now + self.config.backoff_base_s
        await self.connect()
        assert self._session is not None  # noqa: S101  (connect() made it)
        params = {"symbol": venue_symbol, "limit": str(self.config.depth_limit)}
        try:
            async with self._session.get(self.config.snapshot_url, params=params) as response:
                body = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.snapshot_failures += 1
            return [
                self.normaliser.quarantine(
                    self.clock.now(), "snapshot_failed", f"{venue_symbol}: {exc!r}", b""
                )
            ]
        ts_recv = self.clock.now()
        if status != 200:
            self.snapshot_failures += 1
            detail = f"{venue_symbol}: HTTP {status}"
            return [self.normaliser.quarantine(ts_recv, "snapshot_failed", detail, body)]
        snapshot = self.normaliser.snapshot(body, venue_symbol, ts_recv)
        if not isinstance(snapshot, BookUpdate):
            return [snapshot]
        released = sync.on_snapshot(snapshot)
        if released:
            self._next_fetch.pop(venue_symbol, None)
        return released
