"""Loopback servers that play recorded crypto frames and misbehave on demand.

`FramePlayer` is a WebSocket server: each connection waits for the client's subscription,
answers it, then sends frames as its `Plan` says (from where, closing or stalling after so
many, garbage in between, frames skipped, holding at a frame until the client asks for
something), and stays open and silent at the end.
`DepthServer` answers Binance REST depth requests: the recorded snapshot for a symbol's
first request, then (after a gap) one under an id the test chooses.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from aiohttp import web
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed


@dataclass
class Plan:
    start: int = 0
    close_after: int | None = None
    stall_after: int | None = None
    garbage: dict[int, str] = field(default_factory=dict)
    skip: frozenset[int] = frozenset()
    pause_every: int = 200  # yield to the event loop every so many frames
    pause_s: float = 0.0
    hold_at: int | None = None  # before this frame, wait for a request containing `hold_for`
    hold_for: str = ""
    hold_s: float = 5.0  # then play on anyway: a client that never asks fails, not hangs


def binance_reply(message: str) -> str | None:
    request = json.loads(message)
    return json.dumps({"result": None, "id": request.get("id")})


def bybit_reply(message: str) -> str | None:
    request = json.loads(message)
    if request.get("op") == "ping":
        return json.dumps({"success": True, "ret_msg": "pong", "conn_id": "t", "op": "ping"})
    return json.dumps(
        {"success": True, "ret_msg": "", "conn_id": "t", "req_id": "", "op": "subscribe"}
    )


class FramePlayer:
    """Plays `frames` to each connection by `plans[i]` (the last plan repeats)."""

    def __init__(
        self,
        frames: Sequence[str],
        plans: Sequence[Plan] = (Plan(),),
        reply: Callable[[str], str | None] = binance_reply,
        *,
        subscribed_only: bool = False,
    ) -> None:
        self.frames = list(frames)
        self.subscribed_only = subscribed_only  # Binance: only the streams asked for
        self.plans = list(plans)
        self.reply = reply
        self.connections = 0
        self.subscriptions: list[str] = []
        self.received: list[str] = []  # what clients sent after their subscription
        self.sent: Counter[int] = Counter()  # frames sent per connection
        self.url = ""
        self._server: Server | None = None
        self._stalls: list[asyncio.Event] = []
        self._asked: dict[int, asyncio.Event] = {}  # per connection: `hold_for` was answered

    async def start(self, port: int = 0) -> str:
        self._server = await serve(self._serve, "127.0.0.1", port)
        bound = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{bound}/stream"
        return self.url

    @property
    def port(self) -> int:
        return int(self.url.rsplit(":", 1)[1].split("/")[0])

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    async def _serve(self, connection: ServerConnection) -> None:
        index = self.connections
        self.connections += 1
        plan = self.plans[min(index, len(self.plans) - 1)]
        self._asked[index] = asyncio.Event()
        try:
            first = await connection.recv()
            self.subscriptions.append(str(first))
            answer = self.reply(str(first))
            if answer is not None:
                await connection.send(answer)
            listener = asyncio.create_task(self._answer(connection, index, plan.hold_for))
            wanted = set(json.loads(str(first)).get("params", ())) if self.subscribed_only else None
            await self._play(connection, index, plan, wanted)
            await connection.wait_closed()
            listener.cancel()
        except ConnectionClosed:
            return

    async def _answer(self, connection: ServerConnection, index: int, hold_for: str) -> None:
        async for message in connection:
            self.received.append(str(message))
            for answer in self.answers(index, str(message)):
                await connection.send(answer)
            if hold_for in str(message):
                self._asked[index].set()

    def answers(self, index: int, message: str) -> list[str]:
        """What connection `index` sends back to a message after its subscription."""
        answer = self.reply(message)
        return [answer] if answer is not None and '"ping"' in message else []

    def passed(self, index: int, position: int) -> None:
        """Connection `index` went past frame `position` (sent, skipped or before its start)."""

    async def _play(
        self, connection: ServerConnection, index: int, plan: Plan, wanted: set[str] | None
    ) -> None:
        for position in range(plan.start):
            self.passed(index, position)
        for position in range(plan.start, len(self.frames)):
            if position == plan.hold_at:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._asked[index].wait(), plan.hold_s)
            sent = self.sent[index]
            if plan.close_after is not None and sent >= plan.close_after:
                await connection.close()
                return
            if plan.stall_after is not None and sent >= plan.stall_after:
                return  # open, silent
            if sent in plan.garbage:
                await connection.send(plan.garbage.pop(sent))
            self.passed(index, position)
            if position in plan.skip:
                continue
            if wanted is not None and self._stream(position) not in wanted:
                continue
            await connection.send(self.frames[position])
            self.sent[index] += 1
            if self.sent[index] % plan.pause_every == 0:
                await asyncio.sleep(plan.pause_s)

    def _stream(self, position: int) -> str:
        return str(json.loads(self.frames[position]).get("stream", ""))


class DepthServer:
    """Binance REST depth on loopback: a symbol's recorded snapshot first, then (after a gap)
    the recorded levels under the id `later_ids` names for it."""

    def __init__(self, recorded: dict[str, str], later_ids: dict[str, int] | None = None) -> None:
        self.recorded = recorded
        self.later_ids = later_ids or {}
        self.requests: Counter[str] = Counter()
        self.url = ""
        self._runner: web.AppRunner | None = None

    async def start(self) -> str:
        app = web.Application()
        app.router.add_get("/depth", self._depth)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/depth"
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _depth(self, request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        self.requests[symbol] += 1
        if symbol not in self.recorded:
            return web.json_response({"code": -1121, "msg": "Invalid symbol."}, status=400)
        if self.requests[symbol] == 1 or symbol not in self.later_ids:
            return web.Response(text=self.recorded[symbol], content_type="application/json")
        body = json.loads(self.recorded[symbol])
        body["lastUpdateId"] = self.later_ids[symbol]
        return web.json_response(body)
