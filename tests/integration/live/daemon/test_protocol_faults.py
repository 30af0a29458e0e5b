"""Bad frames, unknown requests and a client that stops reading: each gets a clear error or a
closed connection, and the other clients are served as before (real JetStream)."""

from __future__ import annotations

import asyncio
import socket
import struct
from pathlib import Path

import msgspec
import pytest

from flowtape.client import AsyncMarketDataClient
from infra.bus import Bus
from schemas.events import PRICE_SCALE
from schemas.ipc import (
    BAD_REQUEST,
    FRAME_TOO_LARGE,
    MALFORMED_FRAME,
    UNKNOWN_REQUEST,
    AnyReply,
    ErrorReply,
    SubscribedReply,
    TradesReply,
    TradeUpdate,
)
from tests.integration.live.daemon.running import caught_up, prints, publish, running_daemon

_replies = msgspec.msgpack.Decoder(AnyReply)


async def read_reply(reader: asyncio.StreamReader) -> AnyReply:
    (length,) = struct.unpack(">I", await asyncio.wait_for(reader.readexactly(4), 10))
    return _replies.decode(await asyncio.wait_for(reader.readexactly(length), 10))


def body_frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


async def closed_by_daemon(reader: asyncio.StreamReader) -> bool:
    return await asyncio.wait_for(reader.read(1), 10) == b""


GET_TRADES = msgspec.msgpack.encode({"op": "get_trades", "id": 7, "venue": "databento",
                                     "symbol": "AAPL", "count": 5})  # fmt: skip


async def a_bystander_is_served(socket_path: Path) -> None:
    async with AsyncMarketDataClient(socket_path) as other:
        assert len(await other.get_trades("databento", "AAPL", 5)) == 1


@pytest.mark.parametrize(
    ("sent", "code"),
    [
        (body_frame(b"\xc1\xc1\xc1"), MALFORMED_FRAME),  # 0xc1 is never valid MessagePack
        (body_frame(b"\x92\x01"), MALFORMED_FRAME),  # an array cut short
        # MessagePack strings that are not UTF-8: in a request's field, and as its `op`
        (body_frame(GET_TRADES.replace(b"\xa4AAPL", b"\xa4\xff\xfe\xfd\xfc")), MALFORMED_FRAME),
        (body_frame(b"\x81\xa2op\xa2\xff\xfe"), MALFORMED_FRAME),
        (struct.pack(">I", 10_000) + b"x" * 16, FRAME_TOO_LARGE),
        (struct.pack(">I", 2**32 - 1), FRAME_TOO_LARGE),
    ],
)
async def test_a_broken_frame_gets_an_error_frame_and_closes_only_its_connection(
    bus: Bus, socket_path: Path, sent: bytes, code: str
) -> None:
    async with running_daemon(bus, socket_path, max_frame_bytes=4096) as daemon:
        await publish(bus, prints([(0, PRICE_SCALE, 1, "B")]))
        await caught_up(daemon, bus)
        async with AsyncMarketDataClient(socket_path) as bystander:
            reader, writer = await asyncio.open_unix_connection(str(socket_path))
            writer.write(sent)
            reply = await read_reply(reader)
            assert isinstance(reply, ErrorReply) and reply.code == code and reply.message
            assert await closed_by_daemon(reader)
            writer.close()
            assert len(await bystander.get_trades("databento", "AAPL", 5)) == 1
        await a_bystander_is_served(socket_path)
        assert daemon.server.stats.closed_for_bad_frames == 1


@pytest.mark.parametrize(
    ("request_body", "code", "says"),
    [
        ({"op": "get_weather", "id": 3}, UNKNOWN_REQUEST, "unknown op 'get_weather'"),
        ({"id": 4, "venue": "x"}, UNKNOWN_REQUEST, "unknown op None"),
        ({"op": ["get_trades"], "id": 9}, UNKNOWN_REQUEST, "unknown op ['get_trades']"),
        ({"op": "get_candles", "id": 5, "venue": "databento"}, BAD_REQUEST, "get_candles:"),
        ({"op": "get_trades", "id": 6, "venue": "databento", "symbol": "AAPL", "count": "many"},
         BAD_REQUEST, "Expected `int`"),
        ({"op": "get_trades", "id": 8, "venue": "databento", "symbol": "AAPL", "count": 0},
         BAD_REQUEST, "count must be >= 1"),
        ([1, 2, 3], BAD_REQUEST, "a request is a map"),
    ],
)  # fmt: skip
async def test_an_unknown_or_ill_formed_request_gets_an_error_and_the_connection_stays(
    bus: Bus, socket_path: Path, request_body: object, code: str, says: str
) -> None:
    async with running_daemon(bus, socket_path) as daemon:
        await publish(bus, prints([(0, PRICE_SCALE, 1, "B")]))
        await caught_up(daemon, bus)
        reader, writer = await asyncio.open_unix_connection(str(socket_path))
        writer.write(body_frame(msgspec.msgpack.encode(request_body)))
        reply = await read_reply(reader)
        assert isinstance(reply, ErrorReply) and reply.code == code, reply
        assert says in reply.message
        if isinstance(request_body, dict):
            assert reply.id == request_body["id"]
        writer.write(body_frame(GET_TRADES))
        answer = await read_reply(reader)
        assert isinstance(answer, TradesReply) and answer.id == 7 and len(answer.trades) == 1
        writer.close()


async def test_a_subscriber_that_stops_reading_is_dropped_and_holds_back_no_one(
    bus: Bus, socket_path: Path
) -> None:
    async with running_daemon(bus, socket_path, send_buffer_bytes=16_384) as daemon:
        await publish(bus, prints([(0, PRICE_SCALE, 1, "B")]))
        await caught_up(daemon, bus)
        # The stalled client: a small kernel buffer, then it never reads again.
        stalled = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stalled.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        stalled.connect(str(socket_path))
        subscribe = {"op": "subscribe_trades", "id": 1, "venue": "databento", "symbol": "AAPL"}
        stalled.sendall(body_frame(msgspec.msgpack.encode(subscribe)))
        async with AsyncMarketDataClient(socket_path) as reader_client:
            subscription = await reader_client.subscribe_trades("databento", "AAPL")
            sent = 0
            for batch in range(200):  # about 600 kB of updates
                rows = [(batch * 1000 + i, PRICE_SCALE + i, 1, "B") for i in range(50)]
                await publish(bus, prints(rows))
                sent += 50
            await caught_up(daemon, bus)
            received = 0
            while received < sent:
                update = await subscription.next_update(10)
                assert isinstance(update, TradeUpdate), f"{received} of {sent} trades came"
                received += len(update.trades)
            assert received == sent
            assert daemon.server.stats.dropped_slow == 1
            assert len(await reader_client.get_trades("databento", "AAPL", 5)) == 5
        stalled.setblocking(True)
        stalled.settimeout(10)
        data = b""
        while chunk := stalled.recv(65_536):  # what was queued before the drop, then EOF
            data += chunk
        stalled.close()
        first = _replies.decode(data[4 : 4 + struct.unpack(">I", data[:4])[0]])
        assert isinstance(first, SubscribedReply)
