"""HTTP of the features service: /health, /features/latest?symbol=, /state/latest, /stats
and the WebSocket channel /ws/signals (one JSON signal per message)."""

from __future__ import annotations

import asyncio
import contextlib
from asyncio import FIRST_COMPLETED

import msgspec
from aiohttp import WSCloseCode, web

from infra.health import health_handler
from live.features.service import FeaturesService


def build_app(service: FeaturesService) -> web.Application:
    async def features_latest(request: web.Request) -> web.Response:
        symbol = request.query.get("symbol", "")
        if not symbol:
            return web.json_response(
                {"detail": "expected ?symbol=BTC-USDT", "code": "bad_request"}, status=400
            )
        found = service.latest.get(symbol)
        if found is None:
            return web.json_response(
                {"detail": f"no features for {symbol!r} yet", "code": "not_found"}, status=404
            )
        return web.json_response(msgspec.to_builtins(found))

    async def state_latest(_: web.Request) -> web.Response:
        return web.json_response(service.state_latest())

    async def stats(_: web.Request) -> web.Response:
        return web.json_response(service.stats())

    sockets: set[web.WebSocketResponse] = set()

    async def signals(request: web.Request) -> web.WebSocketResponse:
        socket = web.WebSocketResponse(heartbeat=20.0)
        await socket.prepare(request)
        sockets.add(socket)
        queue = service.subscribe()
        closed = asyncio.create_task(socket.receive())  # ends when the client goes
        try:
            while True:
                signal = asyncio.create_task(queue.get())
                done, _ = await asyncio.wait({signal, closed}, return_when=FIRST_COMPLETED)
                if closed in done:
                    signal.cancel()
                    break
                await socket.send_str(msgspec.json.encode(signal.result()).decode())
        finally:
            closed.cancel()
            service.unsubscribe(queue)
            sockets.discard(socket)
            with contextlib.suppress(Exception):
                await socket.close()
        return socket

    async def close_sockets(_: web.Application) -> None:
        for socket in list(sockets):
            await socket.close(code=WSCloseCode.GOING_AWAY)

    app = web.Application()
    app.on_shutdown.append(close_sockets)
    app.router.add_get("/health", health_handler(service.health_report))
    app.router.add_get("/features/latest", features_latest)
    app.router.add_get("/state/latest", state_latest)
    app.router.add_get("/stats", stats)
    app.router.add_get("/ws/signals", signals)
    return app


async def serve(service: FeaturesService, host: str, port: int) -> web.AppRunner:
    runner = web.AppRunner(build_app(service), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner
