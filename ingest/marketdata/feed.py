"""One reconnecting WebSocket connection of a provider.

`WebSocketFeed.items()` yields what happened on the connection, in order:
- `Frame`: a text frame with its receive time;
- `Silence`: nothing arrived for `silence_s` (repeated while the silence lasts, also while
  the connection is down); after `stall_s` of silence the connection is dropped and made
  again;
- `Reconnected`: the connection was lost and is back, subscriptions sent again; the
  provider turns it into a gap event.
Between attempts it waits an exponential backoff (`Backoff`), reset once a connection has
delivered a frame. `close()` ends `items()`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import WebSocketException

from ingest.marketdata.backoff import Backoff
from ingest.marketdata.clock import ReceiveClock

log = logging.getLogger(__name__)
# The connection's own log: frames sent may carry credentials (Alpaca's auth), so its DEBUG
# frame dumps stay off whatever the root level is.
_connection_log = logging.getLogger(f"{__name__}.connection")
_connection_log.setLevel(logging.INFO)


@dataclass(frozen=True, slots=True)
class Frame:
    text: str
    ts_recv: int


@dataclass(frozen=True, slots=True)
class Silence:
    ts_recv: int
    silence_ns: int


@dataclass(frozen=True, slots=True)
class Reconnected:
    ts_recv: int
    down_ns: int
    attempts: int
    error: str


FeedItem = Frame | Silence | Reconnected


@dataclass(frozen=True)
class FeedSettings:
    url: str
    silence_s: float = 5.0
    stall_s: float = 30.0
    backoff_base_s: float = 1.0
    backoff_max_s: float = 60.0
    keepalive_s: float = 20.0
    open_timeout_s: float = 10.0


class WebSocketFeed:
    """A connection to `settings.url` that sends `subscriptions()` after every connect and
    `keepalive()` (when given) every `keepalive_s`."""

    def __init__(
        self,
        settings: FeedSettings,
        subscriptions: Callable[[], list[str]],
        clock: ReceiveClock,
        *,
        keepalive: Callable[[], str] | None = None,
    ) -> None:
        self.settings = settings
        self._subscriptions = subscriptions
        self._keepalive = keepalive
        self._clock = clock
        self._backoff = Backoff(settings.backoff_base_s, settings.backoff_max_s)
        self._closed = asyncio.Event()
        self._connection: ClientConnection | None = None
        self._last_error = ""
        self._last_frame = time.monotonic()
        self.connects = 0
        self.errors = 0

    async def close(self) -> None:
        self._closed.set()
        if self._connection is not None:
            await self._connection.close()

    async def send(self, message: str) -> bool:
        """Send on the current connection; False when there is none (the next connect
        subscribes afresh anyway)."""
        if self._connection is None:
            return False
        try:
            await self._connection.send(message)
        except (WebSocketException, OSError):
            return False
        return True

    async def _connect(self) -> ClientConnection:
        connection = await connect(
            self.settings.url,
            proxy=None,
            open_timeout=self.settings.open_timeout_s,
            max_size=16 * 1024 * 1024,
            logger=_connection_log,
        )
        for message in self._subscriptions():
            await connection.send(message)
        self.connects += 1
        return connection

    async def items(self) -> AsyncIterator[FeedItem]:
        lost_at: int | None = None
        error = ""
        while not self._closed.is_set():
            try:
                self._connection = await self._connect()
            except (OSError, TimeoutError, WebSocketException) as exc:
                self.errors += 1
                error = f"{type(exc).__name__}: {exc}"
                lost_at = lost_at or self._clock.now()
                async for silence in self._pause(self._backoff.next_delay()):
                    yield silence
                continue
            if lost_at is not None:
                now = self._clock.now()
                yield Reconnected(now, now - lost_at, self._backoff.attempts, error)
            try:
                async for item in self._read(self._connection):
                    yield item
            finally:
                connection, self._connection = self._connection, None
                with contextlib.suppress(WebSocketException, OSError):
                    await connection.close()
            if self._closed.is_set():
                return
            self.errors += 1
            lost_at = self._clock.now()
            error = self._last_error
            async for silence in self._pause(self._backoff.next_delay()):
                yield silence

    async def _read(self, connection: ClientConnection) -> AsyncIterator[FeedItem]:
        pinger = (
            asyncio.create_task(self._ping(connection)) if self._keepalive is not None else None
        )
        self._last_frame = time.monotonic()
        try:
            while True:
                try:
                    message = await asyncio.wait_for(connection.recv(), self.settings.silence_s)
                except TimeoutError:
                    silent_s = time.monotonic() - self._last_frame
                    yield Silence(self._clock.now(), int(silent_s * 1e9))
                    if silent_s >= self.settings.stall_s:
                        self._last_error = f"stalled: silent for {silent_s:.1f}s"
                        return
                    continue
                except (WebSocketException, OSError) as exc:
                    self._last_error = f"{type(exc).__name__}: {exc}"
                    return
                ts_recv = self._clock.now()
                self._last_frame = time.monotonic()
                self._backoff.reset()
                text = message if isinstance(message, str) else message.decode("utf-8", "replace")
                yield Frame(text, ts_recv)
        finally:
            if pinger is not None:
                pinger.cancel()

    async def _ping(self, connection: ClientConnection) -> None:
        assert self._keepalive is not None  # noqa: S101  (only started with one)
        with contextlib.suppress(WebSocketException, OSError):
            while True:
                await asyncio.sleep(self.settings.keepalive_s)
                await connection.send(self._keepalive())

    async def _pause(self, delay_s: float) -> AsyncIterator[Silence]:
        """Wait `delay_s` before reconnecting (or until closed), saying every `silence_s`
        how long nothing has arrived."""
        log.info("reconnecting to %s in %.1fs", self.settings.url, delay_s)
        until = time.monotonic() + delay_s
        while not self._closed.is_set():
            left = until - time.monotonic()
            if left <= 0:
                return
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closed.wait(), min(left, self.settings.silence_s))
            silent_s = time.monotonic() - self._last_frame
            if not self._closed.is_set() and silent_s >= self.settings.silence_s:
                yield Silence(self._clock.now(), int(silent_s * 1e9))
