"""The asyncio variant of `flowtape.client.MarketDataClient` (same calls, as coroutines).

One task reads the socket: replies resolve the request waiting for them, updates go to their
subscription's queue. When the daemon goes away the reader reconnects (for up to
`reconnect_timeout_s`) and subscribes again; requests in flight fail with `IpcError`.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import AsyncIterator
from types import TracebackType
from typing import Self

from flowtape.wire import (
    UPDATES,
    ClientOptions,
    SubscribeRequest,
    Update,
    checked,
    decode_reply,
    with_id,
)
from schemas.ipc import (
    FRAME_HEADER,
    BookSnapshot,
    Candle,
    CandlesBatchReply,
    CandlesReply,
    GetCandles,
    GetCandlesBatch,
    GetOrderbook,
    GetTrades,
    IpcError,
    OrderbookReply,
    Reply,
    Request,
    SubscribeCandles,
    SubscribedReply,
    SubscribeOrderbook,
    SubscribeTrades,
    Trade,
    TradesReply,
    Unsubscribe,
    frame,
    frame_length,
)


def _raised(item: Update | IpcError) -> Update:
    if isinstance(item, IpcError):
        raise item
    return item


class AsyncSubscription:
    """The updates of one subscription: `async for update in subscription`."""

    def __init__(self, client: AsyncMarketDataClient, request: SubscribeRequest) -> None:
        self.client = client
        self.request = request
        self.server_id = 0
        self.queue: asyncio.Queue[Update | IpcError] = asyncio.Queue()
        self.active = True

    def __aiter__(self) -> AsyncIterator[Update]:
        return self._updates()

    async def _updates(self) -> AsyncIterator[Update]:
        while self.active:
            yield _raised(await self.queue.get())

    async def next_update(self, timeout_s: float | None = None) -> Update | None:
        """The next update, or None after `timeout_s`; `IpcError` once the daemon has been
        gone longer than the client's `reconnect_timeout_s`."""
        try:
            return _raised(await asyncio.wait_for(self.queue.get(), timeout_s))
        except TimeoutError:
            return None

    async def close(self) -> None:
        if self.active:
            self.active = False
            await self.client._unsubscribe(self)


class AsyncMarketDataClient(ClientOptions):
    """An asyncio client of the daemon; `async with AsyncMarketDataClient() as client:`."""

    def _init_state(self) -> None:
        self._writer: asyncio.StreamWriter | None = None
        self._reader_task: asyncio.Task[None] | None = None
        self._connected = asyncio.Event()
        self._ids = itertools.count(1)
        self._waiting: dict[int, asyncio.Future[Reply]] = {}
        self._subscriptions: dict[int, AsyncSubscription] = {}
        self._closing = False
        self._renewing: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Self:
        await self.connect()
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def connect(self) -> None:
        reader = await self._open()
        self._reader_task = asyncio.create_task(self._read(reader))

    async def _open(self) -> asyncio.StreamReader:
        try:
            reader, writer = await asyncio.open_unix_connection(str(self.socket_path))
        except OSError as exc:
            raise IpcError(
                f"no daemon answers at {self.socket_path}: {exc.strerror or exc}", code="connect"
            ) from exc
        self._writer = writer
        self._connected.set()
        return reader

    async def close(self) -> None:
        self._closing = True
        for task in (self._reader_task, self._renewing):
            if task is not None and not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    # ------------------------------------------------------------------------- requests

    async def get_candles(self, venue: str, symbol: str, interval: str, count: int) -> list[Candle]:
        request = GetCandles(venue=venue, symbol=symbol, interval=interval, count=count)
        reply = await self._call(request)
        assert isinstance(reply, CandlesReply)  # noqa: S101  (the reply kind of this request)
        return reply.candles

    async def get_candles_batch(
        self, venue: str, symbols: list[str], interval: str, count: int
    ) -> dict[str, list[Candle]]:
        request = GetCandlesBatch(venue=venue, symbols=symbols, interval=interval, count=count)
        reply = await self._call(request)
        assert isinstance(reply, CandlesBatchReply)  # noqa: S101
        return reply.candles

    async def get_orderbook(self, venue: str, symbol: str, depth: int = 10) -> BookSnapshot:
        reply = await self._call(GetOrderbook(venue=venue, symbol=symbol, depth=depth))
        assert isinstance(reply, OrderbookReply)  # noqa: S101
        return reply.book

    async def get_trades(self, venue: str, symbol: str, count: int) -> list[Trade]:
        reply = await self._call(GetTrades(venue=venue, symbol=symbol, count=count))
        assert isinstance(reply, TradesReply)  # noqa: S101
        return reply.trades

    async def subscribe_candles(self, venue: str, symbol: str, interval: str) -> AsyncSubscription:
        return await self._subscribe(
            SubscribeCandles(venue=venue, symbol=symbol, interval=interval)
        )

    async def subscribe_orderbook(
        self, venue: str, symbol: str, depth: int = 10
    ) -> AsyncSubscription:
        return await self._subscribe(SubscribeOrderbook(venue=venue, symbol=symbol, depth=depth))

    async def subscribe_trades(self, venue: str, symbol: str) -> AsyncSubscription:
        return await self._subscribe(SubscribeTrades(venue=venue, symbol=symbol))

    # ------------------------------------------------------------------------ internals

    async def _subscribe(self, request: SubscribeRequest) -> AsyncSubscription:
        subscription = AsyncSubscription(self, request)
        await self._renew(subscription)
        return subscription

    async def _renew(self, subscription: AsyncSubscription) -> None:
        reply = await self._call(subscription.request)
        assert isinstance(reply, SubscribedReply)  # noqa: S101
        subscription.server_id = reply.subscription
        self._subscriptions[reply.subscription] = subscription

    async def _unsubscribe(self, subscription: AsyncSubscription) -> None:
        self._subscriptions.pop(subscription.server_id, None)
        with contextlib.suppress(IpcError):  # a subscription the daemon forgot is gone anyway
            await self._call(Unsubscribe(subscription=subscription.server_id))

    async def _call(self, request: Request) -> Reply:
        await asyncio.wait_for(self._connected.wait(), self.reconnect_timeout_s)
        request = with_id(request, next(self._ids))
        future: asyncio.Future[Reply] = asyncio.get_running_loop().create_future()
        self._waiting[request.id] = future
        try:
            assert self._writer is not None  # noqa: S101  (connected)
            self._writer.write(frame(request))
            return checked(await asyncio.wait_for(future, self.timeout_s))
        except TimeoutError as exc:
            raise IpcError(f"no answer to {type(request).__name__} within {self.timeout_s} s",
                           code="timeout") from exc  # fmt: skip
        finally:
            self._waiting.pop(request.id, None)

    async def _read(self, reader: asyncio.StreamReader) -> None:
        while not self._closing:
            try:
                while True:
                    header = await reader.readexactly(FRAME_HEADER.size)
                    length = frame_length(header, self.max_frame_bytes)
                    reply = decode_reply(await reader.readexactly(length))
                    self._route(reply)
            except (asyncio.IncompleteReadError, ConnectionError):
                pass
            try:
                reader = await self._reconnect()
            except IpcError as exc:  # the daemon stayed away: every subscription is told
                for subscription in self._subscriptions.values():
                    subscription.queue.put_nowait(exc)
                return

    def _route(self, reply: Reply) -> None:
        if isinstance(reply, UPDATES):
            subscription = self._subscriptions.get(reply.id)
            if subscription is not None:
                subscription.queue.put_nowait(reply)
            return
        future = self._waiting.get(reply.id)
        if future is not None and not future.done():
            future.set_result(reply)

    async def _reconnect(self) -> asyncio.StreamReader:
        """Wait for the daemon to come back, then subscribe again to everything open."""
        self._connected.clear()
        for future in self._waiting.values():
            if not future.done():
                future.set_exception(IpcError("the daemon went away", code="disconnected"))
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.reconnect_timeout_s
        while True:
            try:
                reader = await self._open()
                break
            except IpcError:
                if loop.time() >= deadline:
                    raise
                await asyncio.sleep(0.1)
        renewed = [s for s in self._subscriptions.values() if s.active]
        self._subscriptions.clear()
        self._renewing = asyncio.get_running_loop().create_task(self._renew_all(renewed))
        return reader

    async def _renew_all(self, subscriptions: list[AsyncSubscription]) -> None:
        for subscription in subscriptions:
            await self._renew(subscription)
