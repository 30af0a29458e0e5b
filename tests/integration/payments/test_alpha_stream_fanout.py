"""The paid stream's fan-out on loopback: each frame written once, uncompressed, straight to
every subscriber's socket; a subscriber too slow to read loses frames, and is told how many,
while the others get every frame. The API is served by uvicorn with the app's WebSocket
protocol over the session's NATS; payments on the local chain."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from typing import Any
from urllib.parse import urlsplit

import pytest
import websockets
from eth_account.signers.local import LocalAccount
from websockets.asyncio.client import ClientConnection

from infra.bus import Bus
from payments.gateway import PaymentGateway
from tests.integration.api.conftest import Api
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.frames import ALPHA_SUBJECT, alpha_frame
from tests.integration.payments.session import paid_once

pytestmark = pytest.mark.slow

SLOW_CLOCK = 0.25  # a paid minute lasts four: no reminder or expiry during these tests
FRAMES = 800
FRAMES_PER_MESSAGE = 10
TINY_RECEIVE_BUFFER = 4096


async def receive(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 30))
    return message


async def subscribed(url: str, **options: Any) -> ClientConnection:
    ws = await websockets.connect(url, **options)
    await ws.send(json.dumps({"t": "subscribe", "symbols": ["CL"]}))
    assert (await receive(ws))["t"] == "subscribed"
    return ws


async def stalled(url: str) -> ClientConnection:
    """A subscriber with a tiny receive buffer that reads at most 4 messages ahead: until
    the test reads from it, its socket on the server backs up after a few dozen frames."""
    address = urlsplit(url)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, TINY_RECEIVE_BUFFER)
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (address.hostname, address.port))
    return await subscribed(url, sock=sock, max_queue=4)


async def read_until(ws: ClientConnection, done: Any) -> list[dict[str, Any]]:
    """Messages from `ws` until `done(messages)`."""
    messages: list[dict[str, Any]] = []
    while not done(messages):
        messages.append(await receive(ws))
    return messages


def frame_ids(messages: list[dict[str, Any]]) -> list[str]:
    return [m["data"]["frame_id"] for m in messages if m["t"] == "frame"]


def accounted(messages: list[dict[str, Any]]) -> int:
    """Frames received plus frames the server said were dropped."""
    return sum(1 if m["t"] == "frame" else m.get("dropped", 0) for m in messages)


@pytest.mark.parametrize("paid_api", [SLOW_CLOCK], indirect=True)
async def test_the_paid_stream_is_not_compressed_while_the_tape_still_is(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount
) -> None:
    api, _ = paid_api
    client = await paid_once(api, chain, payee)
    # Both clients offer permessage-deflate (websockets' default); the tape here takes it.
    async with websockets.connect(api.ws_url) as tape:
        assert "permessage-deflate" in tape.response.headers["Sec-WebSocket-Extensions"]
    paid = await subscribed(f"{client.ws_url()}?token={client.token}")
    try:
        assert "Sec-WebSocket-Extensions" not in paid.response.headers
        assert paid.protocol.extensions == []
    finally:
        await paid.close()


@pytest.mark.parametrize("paid_api", [SLOW_CLOCK], indirect=True)
async def test_a_subscriber_too_slow_to_read_loses_frames_with_a_count_the_others_get_all(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount, bus: Bus
) -> None:
    api, _ = paid_api
    fast_client, slow_client = [await paid_once(api, chain, payee) for _ in range(2)]
    fast = await subscribed(f"{fast_client.ws_url()}?token={fast_client.token}")
    slow = await stalled(f"{slow_client.ws_url()}?token={slow_client.token}")
    try:
        fast_messages: list[dict[str, Any]] = []
        published: list[str] = []
        for first in range(0, FRAMES, FRAMES_PER_MESSAGE):
            batch = [
                alpha_frame("CL", time.time_ns(), first + k) for k in range(FRAMES_PER_MESSAGE)
            ]
            await bus.publish(ALPHA_SUBJECT, batch, run_id="live")
            published += [frame.frame_id for frame in batch]
            # In step with the one that reads (server and subscribers share this event loop).
            fast_messages += [await receive(fast) for _ in batch]
        slow_messages = await read_until(slow, lambda m: accounted(m) >= FRAMES)
    finally:
        await fast.close()
        await slow.close()
    # The subscriber that kept up got every frame, in order, and no notice of a loss.
    assert frame_ids(fast_messages) == published
    # The stalled one lost frames while its socket was full; what it got is in order, and
    # what it got plus the losses it was told of is every frame published.
    received = frame_ids(slow_messages)
    notices = [m for m in slow_messages if m["t"] == "dropped"]
    lost = sum(n["dropped"] for n in notices)
    assert lost > 0 and notices[-1]["droppedTotal"] == lost
    assert notices[0]["reason"] == "the connection read too slowly"
    assert len(received) + lost == FRAMES
    assert [published.index(i) for i in received] == sorted(published.index(i) for i in received)
    assert received[0] == published[0]  # dropped only once the socket was full
    report = api.app.state.alpha.report()
    assert (report["framesDropped"], report["subscribers"]) == (lost, 0)
