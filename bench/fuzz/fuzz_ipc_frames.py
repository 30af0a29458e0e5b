"""Fuzz the IPC frame decoders: the daemon reading request frames, the client reading replies.

An input is one selector byte and a byte stream. Even selector: the stream is what a client
sent the daemon; the real `DaemonServer` serves it over a real socket pair (a small market
in memory) until the stream ends or the daemon closes the connection. The property: every
whole frame read gets exactly one reply, each reply decodes with the client's decoder, and
every ErrorReply has a code and a message. Odd selector: the stream is what the daemon sent
the blocking `MarketDataClient`; it yields replies or raises `IpcError`.
Seeds: one valid frame of every request and of every reply.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Iterator

import atheris
import msgspec
from fuzzing import Violation, run

with atheris.instrument_imports(include=["live.daemon.server", "flowtape", "schemas.ipc"]):
    from flowtape.client import MarketDataClient
    from live.daemon.server import DaemonServer
    from schemas.ipc import (
        FRAME_HEADER,
        BookSnapshot,
        CandlesReply,
        CandleUpdate,
        ErrorReply,
        GetCandles,
        GetCandlesBatch,
        GetOrderbook,
        GetTrades,
        Level,
        OrderbookReply,
        SubscribeCandles,
        SubscribeOrderbook,
        SubscribeTrades,
        TradesReply,
        Unsubscribe,
        frame,
    )

from compute.candles import BufferConfig, Market
from live.daemon.config import DaemonSettings
from schemas.crypto import BookUpdate
from schemas.events import PRICE_SCALE
from schemas.ipc import Candle, Trade

T0 = 1_700_000_000 * 10**9
MAX_FRAME_BYTES = 4096


def _market() -> Market:
    market = Market(BufferConfig(retention={"1m": 8, "1h": 8}, trades_kept=8))
    for name, seconds in (("1m", 60), ("1h", 3_600)):
        market.buffers.seed_candles("bench", "AAA", name, [
            Candle(T0 + i * seconds * 10**9, PRICE_SCALE, PRICE_SCALE, PRICE_SCALE, PRICE_SCALE,
                   1, 1)
            for i in range(4)
        ])  # fmt: skip
    market.buffers.seed_trades("bench", "AAA", [
        Trade("bench", "AAA", T0 + i, T0 + i, PRICE_SCALE, 5, "buy", i) for i in range(1, 5)
    ])  # fmt: skip
    market.apply([BookUpdate(
        ts_recv=T0, ts_event=T0, publisher_id=1, instrument_id=1, source="bench", symbol="AAA",
        venue="bench", venue_symbol="AAA", sequence=1, snapshot=True, first_update_id=1,
        bid_px=[PRICE_SCALE - 1], bid_sz=[3], ask_px=[PRICE_SCALE + 1], ask_sz=[4],
    )])  # fmt: skip
    return market


_loop = asyncio.new_event_loop()
_server = DaemonServer(
    _market(),
    DaemonSettings(max_frame_bytes=MAX_FRAME_BYTES, seed=False),
    path=None,  # type: ignore[arg-type]
)
_client = MarketDataClient("/nonexistent/daemon.sock", max_frame_bytes=MAX_FRAME_BYTES)


def one(data: bytes) -> list[str]:
    if not data:
        return []
    if data[0] % 2:
        return _client_reads(data[1:])
    return _loop.run_until_complete(_daemon_reads(data[1:]))


def _client_reads(stream: bytes) -> list[str]:
    _client._buffer = bytearray(stream)
    for reply in _client._frames():
        if isinstance(reply, ErrorReply) and not (reply.code and reply.message):
            raise Violation("an ErrorReply without code or message reached the client")
    return []


def _expected_replies(stream: bytes) -> int:
    """How many replies the daemon owes for `stream`: one per whole frame, up to and
    including the first frame that closes the connection (too long, or not MessagePack)."""
    owed, offset = 0, 0
    while len(stream) - offset >= FRAME_HEADER.size:
        (length,) = FRAME_HEADER.unpack_from(stream, offset)
        if length > MAX_FRAME_BYTES:
            return owed + 1
        end = offset + FRAME_HEADER.size + length
        if end > len(stream):
            return owed
        owed += 1
        try:
            msgspec.msgpack.decode(stream[offset + FRAME_HEADER.size : end])
        except (msgspec.DecodeError, UnicodeDecodeError):
            return owed
        offset = end
    return owed


async def _daemon_reads(stream: bytes) -> list[str]:
    ours, theirs = socket.socketpair()
    try:
        reader = asyncio.StreamReader()
        reader.feed_data(stream)
        reader.feed_eof()
        _, writer = await asyncio.open_unix_connection(sock=ours)
        await _server._serve(reader, writer)
        await writer.wait_closed()
        received = b""
        while chunk := theirs.recv(1 << 16):
            received += chunk
    finally:
        theirs.close()
    _client._buffer = bytearray(received)
    answers = list(_client._frames())
    if _client._buffer:
        raise Violation(f"{len(_client._buffer)} bytes of a cut reply frame")
    owed = _expected_replies(stream)
    if len(answers) != owed:
        raise Violation(f"{owed} frames read, {len(answers)} replies")
    reasons = []
    for answer in answers:
        if isinstance(answer, ErrorReply):
            if not (answer.code and answer.message):
                raise Violation("an ErrorReply without code or message")
            reasons.append(answer.code)
    return reasons


def seeds() -> Iterator[bytes]:
    requests = [
        GetCandles(id=1, venue="bench", symbol="AAA", interval="1m", count=3),
        GetCandlesBatch(id=2, venue="bench", symbols=["AAA", "BBB"], interval="1h", count=2),
        GetOrderbook(id=3, venue="bench", symbol="AAA", depth=5),
        GetTrades(id=4, venue="bench", symbol="AAA", count=2),
        SubscribeCandles(id=5, venue="bench", symbol="AAA", interval="1m"),
        SubscribeOrderbook(id=6, venue="bench", symbol="AAA"),
        SubscribeTrades(id=7, venue="bench", symbol="AAA"),
        Unsubscribe(id=8, subscription=1),
    ]
    for request in requests:
        yield b"\x00" + frame(request)
    yield b"\x00" + b"".join(frame(request) for request in requests)
    candle = Candle(T0, 1, 2, 0, 1, 5, 1)
    level = Level(PRICE_SCALE, 3)
    book = BookSnapshot(venue="bench", symbol="AAA", ts_recv=T0, bids=[level], asks=[level])
    answers = [
        CandlesReply(id=1, candles=[candle]),
        OrderbookReply(id=3, book=book),
        TradesReply(id=4, trades=[Trade("bench", "AAA", T0, T0, 1, 1, "sell", 1)]),
        ErrorReply(id=9, code="not_found", message="no such symbol"),
        CandleUpdate(id=5, candle=candle, closed=True),
    ]
    for answer in answers:
        yield b"\x01" + frame(answer)
    yield b"\x01" + frame(answers[0])[:-2]


if __name__ == "__main__":
    run("ipc_frames", one, seeds())
