"""The Alpaca stock source: trades and quotes from Alpaca's market-data WebSocket
(`wss://stream.data.alpaca.markets/v2/{iex|sip}`, JSON frames), or a dry run without keys.

On every connect the feed sends `{"action": "auth", ...}`; once Alpaca answers
`authenticated` the source sends `{"action": "subscribe", "trades": [...], "quotes":
[...]}` (as alpaca-py does: a subscription before that is refused). Reconnects, backoff,
synthetic heartbeats on silence and the reconnect gap come from
`ingest.marketdata.provider.WebSocketProvider`.

    source = build_stock_source(AlpacaStocksConfig(symbols=["AAPL"], api_key=..., ...))
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator

from ingest.alpaca.stock_config import AlpacaStocksConfig
from ingest.alpaca.stock_parsing import AlpacaStockNormaliser
from ingest.alpaca.stock_symbols import StockSymbolTable
from ingest.marketdata.clock import ReceiveClock
from ingest.marketdata.feed import Frame
from ingest.marketdata.provider import WebSocketProvider
from ingest.source import Source
from schemas.crypto import ProviderHeartbeat
from schemas.events import Event

log = logging.getLogger(__name__)


class AlpacaStockSource(WebSocketProvider):
    """Live trades and quotes of the configured tickers (needs the key pair)."""

    def __init__(self, config: AlpacaStocksConfig, *, clock: ReceiveClock | None = None) -> None:
        self.config = config
        table = StockSymbolTable(config.venue, config.symbols)
        super().__init__(
            config.source_name,
            config.venue,
            config.stream_url,
            config,
            self._subscriptions,
            table=table,
            clock=clock,
        )
        self.normaliser = AlpacaStockNormaliser(config.venue, self.name, self.table)

    def _subscriptions(self) -> list[str]:
        auth = {"action": "auth", "key": self.config.api_key, "secret": self.config.secret_key}
        return [json.dumps(auth)]

    async def on_frame(self, frame: Frame) -> AsyncIterator[Event]:
        events = self.normaliser.frame(frame.text, frame.ts_recv)
        if self.normaliser.authenticated:  # subscribe once the venue has taken the keys
            self.normaliser.authenticated = False
            symbols = list(self.config.symbols)
            subscribe = {"action": "subscribe", "trades": symbols, "quotes": symbols}
            await self.feed.send(json.dumps(subscribe))
        for event in events:
            yield event


class AlpacaStockDryRun:
    """Without keys: connects nowhere and emits a synthetic heartbeat every `silence_s`."""

    def __init__(self, config: AlpacaStocksConfig, *, clock: ReceiveClock | None = None) -> None:
        StockSymbolTable(config.venue, config.symbols)  # the same refusals as a live run
        self.config = config
        self.name = config.source_name
        self.clock = clock or ReceiveClock()
        self._closed = asyncio.Event()

    async def connect(self) -> None:
        log.warning("%s: no ALPACA_API_KEY/ALPACA_SECRET_KEY, dry run: heartbeats only", self.name)

    async def close(self) -> None:
        self._closed.set()

    async def events(self) -> AsyncIterator[Event]:
        started = time.monotonic()
        while not self._closed.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), self.config.silence_s)
            if not self._closed.is_set():
                yield ProviderHeartbeat(
                    ts_recv=self.clock.now(),
                    source=self.name,
                    synthetic=True,
                    silence_ns=int((time.monotonic() - started) * 1e9),
                )


def build_stock_source(config: AlpacaStocksConfig) -> Source:
    """The live source with a key pair, the dry run without."""
    return AlpacaStockSource(config) if config.has_keys else AlpacaStockDryRun(config)
