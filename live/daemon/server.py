"""The Unix-socket server: requests answered from memory, subscriptions fed per batch.

Each connection is read by its own task; replies and updates are written without waiting, and
a connection whose unread output grows beyond `send_buffer_bytes` is dropped as a slow
consumer, so one client that stops reading never holds back the others. A frame that is not
MessagePack or is longer than `max_frame_bytes` gets an error frame and closes that
connection only; an unknown or ill-formed request gets an error frame and the connection
stays open.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import socket
import stat
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import msgspec

from compute.candles import Changes, Market
from live.daemon.config import DaemonSettings
from schemas.errors import ConfigError
from schemas.ipc import (
    BAD_REQUEST,
    FRAME_HEADER,
    MALFORMED_FRAME,
    NOT_FOUND,
    REQUEST_OPS,
    SLOW_CONSUMER,
    UNKNOWN_REQUEST,
    AnyRequest,
    BookSnapshot,
    CandlesBatchReply,
    CandlesReply,
    CandleUpdate,
    ErrorReply,
    GetCandles,
    GetCandlesBatch,
    GetOrderbook,
    GetTrades,
    IpcError,
    OrderbookReply,
    OrderbookUpdate,
    Reply,
    SubscribeCandles,
    SubscribedReply,
    SubscribeOrderbook,
    SubscribeTrades,
    TradesReply,
    TradeUpdate,
    Unsubscribe,
    UnsubscribedReply,
    frame,
    frame_length,
)

log = logging.getLogger(__name__)

_requests = msgspec.msgpack.Decoder(AnyRequest)
_anything = msgspec.msgpack.Decoder()

# A subscription's topic: ("trades" | "book", venue, symbol) or ("candles", venue, symbol, interval)
Topic = tuple[str, ...]


@dataclass
class ServerStats:
    connections: int = 0
    requests: int = 0
    errors: int = 0
    closed_for_bad_frames: int = 0
    dropped_slow: int = 0
    updates_sent: int = 0


@dataclass(eq=False)
class Connection:
    writer: asyncio.StreamWriter
    limit: int
    subscriptions: dict[int, Topic] = field(default_factory=dict)
    depths: dict[int, int] = field(default_factory=dict)
    closed: bool = False
    dropped: str = ""

    def send(self, reply: Reply) -> bool:
        """Queue one frame; False (and the connection dropped) when the client lags behind."""
        if self.closed:
            return False
        transport = self.writer.transport
        transport.write(frame(reply))
        if transport.get_write_buffer_size() > self.limit:
            self.dropped = f"more than {self.limit} bytes unread"
            self.closed = True
            transport.abort()
            return False
        return True


class DaemonServer:
    """Serves `market` on a Unix socket; `publish` feeds the subscriptions after each batch."""

    def __init__(self, market: Market, settings: DaemonSettings, path: Path) -> None:
        self.market = market
        self.settings = settings
        self.path = path
        self.stats = ServerStats()
        self._server: asyncio.Server | None = None
        self._topics: dict[Topic, dict[int, Connection]] = defaultdict(dict)
        self._ids = itertools.count(1)
        self._connections: set[Connection] = set()

    async def start(self) -> None:
        """Listen (once; a second call changes nothing)."""
        if self._server is not None:
            return
        sock = _bind(self.path, self.settings.socket_mode)
        self._server = await asyncio.start_unix_server(self._serve, sock=sock)

    async def close(self) -> None:
        """Stop listening, drop every client and remove the socket (a second call is a no-op)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        for connection in list(self._connections):
            connection.writer.transport.abort()
        await server.wait_closed()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connection = Connection(writer, self.settings.send_buffer_bytes)
        self._connections.add(connection)
        self.stats.connections += 1
        try:
            while not connection.closed:
                header = await reader.readexactly(FRAME_HEADER.size)
                try:
                    length = frame_length(header, self.settings.max_frame_bytes)
                except IpcError as exc:
                    self._refuse(connection, exc.code, str(exc))
                    break
                body = await reader.readexactly(length)
                if not self._answer(connection, body):
                    break
        except (asyncio.IncompleteReadError, ConnectionError):
            pass  # the client went away
        finally:
            self._forget(connection)
            writer.close()

    def _refuse(self, connection: Connection, code: str, message: str) -> None:
        self.stats.closed_for_bad_frames += 1
        log.warning("closing a connection: [%s] %s", code, message)
        self._send(connection, ErrorReply(id=0, code=code, message=message))

    def _send(self, connection: Connection, reply: Reply) -> bool:
        """Send one frame; a client too far behind is dropped here, with its reason."""
        if connection.send(reply):
            return True
        if connection.dropped and connection in self._connections:
            self.stats.dropped_slow += 1
            log.warning("dropped a client: [%s] %s", SLOW_CONSUMER, connection.dropped)
        self._forget(connection)
        return False

    def _answer(self, connection: Connection, body: bytes) -> bool:
        """Answer one request frame; False when the connection must close."""
        self.stats.requests += 1
        try:
            request = _requests.decode(body)
        except (msgspec.DecodeError, UnicodeDecodeError) as exc:
            # A MessagePack string that is not UTF-8 raises UnicodeDecodeError, not DecodeError.
            try:
                loose = _anything.decode(body)
            except (msgspec.DecodeError, UnicodeDecodeError) as broken:
                self._refuse(connection, MALFORMED_FRAME, f"the body is not MessagePack: {broken}")
                return False
            self._error(connection, _request_id(loose), *_classify(loose, exc))
            return True
        reply = self._reply(connection, request)
        self._send(connection, reply)
        if isinstance(reply, ErrorReply):
            self.stats.errors += 1
        return True

    def _error(self, connection: Connection, request_id: int, code: str, message: str) -> None:
        self.stats.errors += 1
        self._send(connection, ErrorReply(id=request_id, code=code, message=message))

    def _reply(self, connection: Connection, request: AnyRequest) -> Reply:
        buffers = self.market.buffers
        rid = request.id
        if isinstance(request, GetCandles | GetCandlesBatch | SubscribeCandles):
            if not buffers.has_interval(request.interval):
                kept = ", ".join(buffers.config.retention)
                return _not_found(rid, f"interval {request.interval!r} is not kept ({kept})")
        if isinstance(request, GetCandles | GetCandlesBatch | GetTrades | GetOrderbook):
            count = request.depth if isinstance(request, GetOrderbook) else request.count
            if count < 1:
                return ErrorReply(
                    id=rid, code=BAD_REQUEST, message=f"count must be >= 1, got {count}"
                )
        match request:
            case GetCandles(venue=venue, symbol=symbol, interval=interval, count=count):
                candles = buffers.candles(venue, symbol, interval, count)
                if candles is None:
                    return _not_found(rid, f"no trades of {venue}/{symbol}")
                return CandlesReply(id=rid, candles=candles)
            case GetCandlesBatch(venue=venue, symbols=symbols, interval=interval, count=count):
                found = {s: buffers.candles(venue, s, interval, count) or [] for s in symbols}
                return CandlesBatchReply(id=rid, candles=found)
            case GetTrades(venue=venue, symbol=symbol, count=count):
                trades = buffers.trades(venue, symbol, count)
                if trades is None:
                    return _not_found(rid, f"no trades of {venue}/{symbol}")
                return TradesReply(id=rid, trades=trades)
            case GetOrderbook(venue=venue, symbol=symbol, depth=depth):
                book = self._book(venue, symbol, depth)
                if book is None:
                    return _not_found(rid, f"no book of {venue}/{symbol}")
                return OrderbookReply(id=rid, book=book)
            case SubscribeCandles(venue=venue, symbol=symbol, interval=interval):
                return self._subscribe(connection, rid, ("candles", venue, symbol, interval))
            case SubscribeTrades(venue=venue, symbol=symbol):
                return self._subscribe(connection, rid, ("trades", venue, symbol))
            case SubscribeOrderbook(venue=venue, symbol=symbol, depth=depth):
                if depth < 1:
                    return ErrorReply(
                        id=rid, code=BAD_REQUEST, message=f"depth must be >= 1, got {depth}"
                    )
                reply = self._subscribe(connection, rid, ("book", venue, symbol))
                connection.depths[reply.subscription] = depth
                return reply
            case Unsubscribe(subscription=subscription):
                topic = connection.subscriptions.pop(subscription, None)
                if topic is None:
                    return _not_found(rid, f"no subscription {subscription} on this connection")
                self._topics[topic].pop(subscription, None)
                connection.depths.pop(subscription, None)
                return UnsubscribedReply(id=rid, subscription=subscription)
        raise AssertionError(f"unhandled request {request!r}")  # the union is matched above

    def _book(self, venue: str, symbol: str, depth: int) -> BookSnapshot | None:
        book = self.market.book(venue, symbol, min(depth, self.settings.max_book_depth))
        if book is None or (len(book.bids) <= depth and len(book.asks) <= depth):
            return book
        return msgspec.structs.replace(book, bids=book.bids[:depth], asks=book.asks[:depth])

    def subscribers(self, *topic: str) -> int:
        """How many subscriptions a topic has, e.g. `subscribers("trades", venue, symbol)`."""
        return len(self._topics.get(topic, ()))

    def _subscribe(self, connection: Connection, rid: int, topic: Topic) -> SubscribedReply:
        subscription = next(self._ids)
        connection.subscriptions[subscription] = topic
        self._topics[topic][subscription] = connection
        return SubscribedReply(id=rid, subscription=subscription)

    def _forget(self, connection: Connection) -> None:
        connection.closed = True
        self._connections.discard(connection)
        for subscription, topic in connection.subscriptions.items():
            self._topics[topic].pop(subscription, None)
        connection.subscriptions.clear()

    def publish(self, changes: Changes) -> None:
        """Send each subscription what the batch changed in its topic."""
        topics = self._topics
        for (venue, symbol), trades in changes.trades.items():
            for subscription, connection in list(topics.get(("trades", venue, symbol), {}).items()):
                self._push(connection, TradeUpdate(id=subscription, trades=trades))
            for interval, _ in self.market.buffers.intervals:
                subscribers = topics.get(("candles", venue, symbol, interval))
                if subscribers:
                    self._push_candles(subscribers, changes, venue, symbol, interval)
        for venue, symbol in changes.books:
            subscribers = topics.get(("book", venue, symbol))
            for subscription, connection in list((subscribers or {}).items()):
                book = self._book(venue, symbol, connection.depths.get(subscription, 10))
                if book is not None:
                    self._push(connection, OrderbookUpdate(id=subscription, book=book))

    def _push_candles(
        self, subscribers: dict[int, Connection], changes: Changes, venue: str, symbol: str,
        interval: str,
    ) -> None:  # fmt: skip
        wanted = (venue, symbol, interval)
        closed = [c.candle for c in changes.closed if (c.venue, c.symbol, c.interval) == wanted]
        latest = self.market.buffers.latest_candle(venue, symbol, interval)
        for subscription, connection in list(subscribers.items()):
            for candle in closed:
                self._push(connection, CandleUpdate(id=subscription, candle=candle, closed=True))
            if latest is not None:
                self._push(connection, CandleUpdate(id=subscription, candle=latest, closed=False))

    def _push(self, connection: Connection, update: Reply) -> None:
        if self._send(connection, update):
            self.stats.updates_sent += 1


def _not_found(rid: int, message: str) -> ErrorReply:
    return ErrorReply(id=rid, code=NOT_FOUND, message=message)


def _request_id(loose: object) -> int:
    value = loose.get("id") if isinstance(loose, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _classify(loose: object, exc: ValueError) -> tuple[str, str]:
    """Why a MessagePack body is not a request: an unknown `op`, or bad fields."""
    if not isinstance(loose, dict):
        return BAD_REQUEST, f"a request is a map with an op, got {type(loose).__name__}"
    op = loose.get("op")
    if not isinstance(op, str) or op not in REQUEST_OPS:  # a list or an Ext is unhashable
        return (
            UNKNOWN_REQUEST,
            f"unknown op {op!r}; expected one of {', '.join(sorted(REQUEST_OPS))}",
        )
    return BAD_REQUEST, f"{op}: {exc}"


def _bind(path: Path, mode: int) -> socket.socket:
    """A listening Unix socket at `path` created with `mode` (never wider, not even briefly);
    a stale socket file is replaced, a live one refused."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() or path.is_symlink():
        if not stat.S_ISSOCK(path.lstat().st_mode):
            raise ConfigError(f"{path} exists and is not a socket", code="socket")
        probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            probe.connect(str(path))
        except OSError:
            path.unlink()  # nobody listens: left by a daemon that died
        else:
            raise ConfigError(f"another daemon is listening on {path}", code="socket")
        finally:
            probe.close()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    previous = os.umask(0o777 & ~mode)
    try:
        sock.bind(str(path))
    except OSError as exc:
        sock.close()
        raise ConfigError(f"cannot listen on {path}: {exc.strerror or exc}", code="socket") from exc
    finally:
        os.umask(previous)
    os.chmod(path, mode)
    sock.listen(128)
    sock.setblocking(False)
    return sock
