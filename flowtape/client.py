"""The local daemon's client: typed requests and subscriptions over its Unix socket.

    with MarketDataClient() as client:
        candles = client.get_candles("databento", "AAPL", "1m", 100)
        book = client.get_orderbook("databento", "AAPL", depth=10)
        for update in client.subscribe_trades("databento", "AAPL"):
            ...

`AsyncMarketDataClient` offers the same calls as coroutines. Subscriptions survive a daemon
restart: the client reconnects and subscribes again (updates sent while it was down are
lost; the candles and trades it missed can be read back with the get calls).
"""

from __future__ import annotations

import itertools
import socket
import time
from collections import deque
from collections.abc import Iterator
from types import TracebackType
from typing import Self

from flowtape.async_client import AsyncMarketDataClient, AsyncSubscription
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

__all__ = [
    "AsyncMarketDataClient",
    "AsyncSubscription",
    "BookSnapshot",
    "Candle",
    "IpcError",
    "MarketDataClient",
    "Subscription",
    "Trade",
]


class Subscription:
    """The updates of one subscription, in order; iterate, or `next_update(timeout_s)`."""

    def __init__(self, client: MarketDataClient, request: SubscribeRequest) -> None:
        self.client = client
        self.request = request
        self.server_id = 0
        self.queue: deque[Update] = deque()
        self.active = True

    def __iter__(self) -> Iterator[Update]:
        while self.active:
            update = self.next_update(None)
            if update is not None:
                yield update

    def next_update(self, timeout_s: float | None) -> Update | None:
        """The next update, waiting at most `timeout_s` (None: for ever); None on timeout."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while not self.queue:
            if not self.active:
                return None
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                return None
            self.client._pump(remaining)
        return self.queue.popleft()

    def close(self) -> None:
        """Unsubscribe (idempotent)."""
        if self.active:
            self.active = False
            self.client._unsubscribe(self)


class MarketDataClient(ClientOptions):
    """A blocking client of the daemon; use it as a context manager."""

    def _init_state(self) -> None:
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._ids = itertools.count(1)
        self._answers: dict[int, Reply] = {}
        self._subscriptions: dict[int, Subscription] = {}

    def __enter__(self) -> Self:
        self.connect()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def connect(self) -> None:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            sock.connect(str(self.socket_path))
        except OSError as exc:
            sock.close()
            raise IpcError(
                f"no daemon answers at {self.socket_path}: {exc.strerror or exc}", code="connect"
            ) from exc
        self._sock = sock
        self._buffer.clear()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    # ------------------------------------------------------------------------- requests

    def get_candles(self, venue: str, symbol: str, interval: str, count: int) -> list[Candle]:
        """The last `count` candles, oldest first (the last one may still be open)."""
        reply = self._call(GetCandles(venue=venue, symbol=symbol, interval=interval, count=count))
        assert isinstance(reply, CandlesReply)  # noqa: S101  (the reply kind of this request)
        return reply.candles

    def get_candles_batch(
        self, venue: str, symbols: list[str], interval: str, count: int
    ) -> dict[str, list[Candle]]:
        request = GetCandlesBatch(venue=venue, symbols=symbols, interval=interval, count=count)
        reply = self._call(request)
        assert isinstance(reply, CandlesBatchReply)  # noqa: S101
        return reply.candles

    def get_orderbook(self, venue: str, symbol: str, depth: int = 10) -> BookSnapshot:
        """The book's top `depth` levels: bids highest first, asks lowest first."""
        reply = self._call(GetOrderbook(venue=venue, symbol=symbol, depth=depth))
        assert isinstance(reply, OrderbookReply)  # noqa: S101
        return reply.book

    def get_trades(self, venue: str, symbol: str, count: int) -> list[Trade]:
        """The last `count` trades, oldest first, with their aggressor side."""
        reply = self._call(GetTrades(venue=venue, symbol=symbol, count=count))
        assert isinstance(reply, TradesReply)  # noqa: S101
        return reply.trades

    def subscribe_candles(self, venue: str, symbol: str, interval: str) -> Subscription:
        return self._subscribe(SubscribeCandles(venue=venue, symbol=symbol, interval=interval))

    def subscribe_orderbook(self, venue: str, symbol: str, depth: int = 10) -> Subscription:
        return self._subscribe(SubscribeOrderbook(venue=venue, symbol=symbol, depth=depth))

    def subscribe_trades(self, venue: str, symbol: str) -> Subscription:
        return self._subscribe(SubscribeTrades(venue=venue, symbol=symbol))

    # ------------------------------------------------------------------------ internals

    def _subscribe(self, request: SubscribeRequest) -> Subscription:
        subscription = Subscription(self, request)
        self._open(subscription)
        return subscription

    def _open(self, subscription: Subscription) -> None:
        request_id = next(self._ids)
        reply = self._call(with_id(subscription.request, request_id))
        assert isinstance(reply, SubscribedReply)  # noqa: S101
        subscription.server_id = reply.subscription
        self._subscriptions[reply.subscription] = subscription

    def _unsubscribe(self, subscription: Subscription) -> None:
        self._subscriptions.pop(subscription.server_id, None)
        if self._sock is not None:
            try:
                self._call(Unsubscribe(subscription=subscription.server_id))
            except IpcError:
                pass  # a subscription the daemon forgot (restarted) is gone either way

    def _call(self, request: Request) -> Reply:
        if request.id == 0:
            request = with_id(request, next(self._ids))
        if self._sock is None:
            self._reconnect()
        assert self._sock is not None  # noqa: S101
        self._sock.sendall(frame(request))
        deadline = time.monotonic() + self.timeout_s
        while request.id not in self._answers:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise IpcError(f"no answer to {type(request).__name__} within {self.timeout_s} s",
                               code="timeout")  # fmt: skip
            self._pump(remaining, resubscribe=False)
        return checked(self._answers.pop(request.id))

    def _pump(self, timeout_s: float | None, *, resubscribe: bool = True) -> None:
        """Read what arrives within `timeout_s`, routing updates to their subscriptions."""
        if self._sock is None:
            self._reconnect()
        assert self._sock is not None  # noqa: S101
        self._sock.settimeout(timeout_s)
        try:
            chunk = self._sock.recv(65_536)
        except TimeoutError:
            return
        except OSError:
            chunk = b""
        if not chunk:
            self.close()
            if not resubscribe:
                raise IpcError("the daemon closed the connection", code="disconnected")
            self._reconnect()
            return
        self._buffer += chunk
        for reply in self._frames():
            if isinstance(reply, UPDATES):
                subscription = self._subscriptions.get(reply.id)
                if subscription is not None:
                    subscription.queue.append(reply)
            else:
                self._answers[reply.id] = reply

    def _frames(self) -> Iterator[Reply]:
        buffer = self._buffer
        offset = 0
        while len(buffer) - offset >= FRAME_HEADER.size:
            length = frame_length(bytes(buffer[offset : offset + 4]), self.max_frame_bytes)
            end = offset + FRAME_HEADER.size + length
            if len(buffer) < end:
                break
            yield decode_reply(buffer[offset + FRAME_HEADER.size : end])
            offset = end
        del buffer[:offset]

    def _reconnect(self) -> None:
        """Connect again (waiting up to `reconnect_timeout_s` for the daemon to come back)
        and renew every open subscription."""
        deadline = time.monotonic() + self.reconnect_timeout_s
        while True:
            try:
                self.connect()
                break
            except IpcError:
                if time.monotonic() >= deadline:
                    raise
                time.sleep(0.1)
        self._answers.clear()
        renewed = [s for s in self._subscriptions.values() if s.active]
        self._subscriptions.clear()
        for subscription in renewed:
            self._open(subscription)
