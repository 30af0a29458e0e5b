"""The Bybit V5 provider: one public connection per category, `ping` keep-alives, books
checked by BybitBookSync (a broken one subscribed again for a fresh snapshot).

    source = BybitSource(BybitConfig(symbols=["BTCUSDT"], category="linear"))
    await source.connect()
    async for event in source.events():
        ...
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

from ingest.bybit.book_sync import BybitBookSync
from ingest.bybit.config import BybitConfig
from ingest.bybit.parsing import BybitNormaliser
from ingest.marketdata.clock import ReceiveClock
from ingest.marketdata.feed import Frame
from ingest.marketdata.provider import WebSocketProvider
from ingest.marketdata.symbology import SymbolTable
from schemas.crypto import BookUpdate
from schemas.events import Event

PING = json.dumps({"op": "ping"})


class BybitSource(WebSocketProvider):
    """Bybit linear or spot public market data for the configured symbols."""

    def __init__(
        self,
        config: BybitConfig,
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
            lambda: [self._request("subscribe", config.topics())],
            table=table,
            clock=clock,
            keepalive=(lambda: PING, config.keepalive_s),
        )
        self.normaliser = BybitNormaliser(config.venue, self.name, self.table)
        self.books = {i.venue_symbol: BybitBookSync() for i in self.instruments}
        self.resubscribes = 0
        self._request_id = 0

    def _request(self, op: str, topics: list[str]) -> str:
        self._request_id += 1
        return json.dumps({"op": op, "args": topics, "req_id": str(self._request_id)})

    def on_reconnect(self) -> None:
        for book in self.books.values():
            book.reconnected()

    async def on_frame(self, frame: Frame) -> AsyncIterator[Event]:
        for event in self.normaliser.frame(frame.text, frame.ts_recv):
            if isinstance(event, BookUpdate) and event.venue_symbol in self.books:
                book = self.books[event.venue_symbol]
                for out in book.on_book(event):
                    yield out
                if book.needs_resubscribe:
                    book.needs_resubscribe = False
                    await self._resubscribe(event.venue_symbol)
            else:
                yield event

    async def _resubscribe(self, venue_symbol: str) -> None:
        """Subscribing a book topic again makes Bybit send a fresh snapshot."""
        topic = [f"orderbook.{self.config.depth}.{venue_symbol}"]
        self.resubscribes += 1
        await self.feed.send(self._request("unsubscribe", topic))
        await self.feed.send(self._request("subscribe", topic))
