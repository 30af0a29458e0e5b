"""A loopback server speaking Alpaca's stock stream protocol (JSON frames).

On open it sends `[{"T":"success","msg":"connected"}]`; the first message must be
`{"action":"auth","key":...,"secret":...}`: the right pair is answered `authenticated`, a
wrong one `[{"T":"error","code":402,"msg":"auth failed"}]` and the connection is closed;
a message sent before the answer (it comes after `AUTH_DELAY_S`) gets error 401 and the
connection is closed.
A `subscribe` is answered with the subscription, then `frames` are played; with
`close_after_play` the connection is closed after them (else it stays open and silent).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

AUTH_DELAY_S = 0.05
NOT_AUTHENTICATED = {"T": "error", "code": 401, "msg": "not authenticated"}


class AlpacaStockServer:
    def __init__(
        self, key: str, secret: str, frames: Sequence[str], *, close_after_play: bool = False
    ) -> None:
        self.key = key
        self.secret = secret
        self.frames = list(frames)
        self.close_after_play = close_after_play
        self.requests: list[dict[str, object]] = []  # what clients sent, in order
        self.connections = 0
        self.url = ""
        self._server: Server | None = None

    async def start(self) -> str:
        self._server = await serve(self._serve, "127.0.0.1", 0)
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://127.0.0.1:{port}/v2/iex"
        return self.url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, connection: ServerConnection) -> None:
        self.connections += 1
        try:
            await connection.send(json.dumps([{"T": "success", "msg": "connected"}]))
            auth = json.loads(await connection.recv())
            self.requests.append(auth)
            if auth != {"action": "auth", "key": self.key, "secret": self.secret}:
                await connection.send(
                    json.dumps([{"T": "error", "code": 402, "msg": "auth failed"}])
                )
                await connection.close()
                return
            try:  # Alpaca refuses what comes before it has answered the auth
                early = await asyncio.wait_for(connection.recv(), AUTH_DELAY_S)
            except TimeoutError:
                early = None
            if early is not None:
                self.requests.append(json.loads(early))
                await connection.send(json.dumps([NOT_AUTHENTICATED]))
                await connection.close()
                return
            await connection.send(json.dumps([{"T": "success", "msg": "authenticated"}]))
            subscribe = json.loads(await connection.recv())
            self.requests.append(subscribe)
            ack = {"T": "subscription", "trades": subscribe.get("trades", []),
                   "quotes": subscribe.get("quotes", []), "bars": []}  # fmt: skip
            await connection.send(json.dumps([ack]))
            for frame in self.frames:
                await connection.send(frame)
            if self.close_after_play:
                await connection.close()
                return
            await connection.wait_closed()
        except ConnectionClosed:
            return
