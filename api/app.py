"""The flowtape HTTP API: REST history, the live tape, playback, read-only SQL, health, metrics.

`create_app(settings)` builds the app from one router per area (api/routers/); its lifespan
finds the servers through infra.stack (URLs from the settings, else a running `flowtape up`,
else embedded ones it starts and stops), opens one Warehouse and one Bus, and starts the tape
reader. Handlers reach them through api/dependencies.py. OpenAPI docs are at /docs. JSON
conventions (api/views.py): integer nanosecond timestamps, money in integer cents, prices as
int at 1e-9 with a `<name>_dollars` float beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api.alpha_stream import AlphaStream, configured
from api.auth import Authenticator, hide_frame_payloads
from api.candle_feed import CandleFeed
from api.errors import EXCEPTION_HANDLERS
from api.metrics import RequestCounter, count_requests
from api.responses import JSON
from api.routers import (
    alpha,
    alpha_stream,
    candles,
    health,
    history,
    metrics,
    panels,
    playback,
    runs,
    sql,
    web,
    ws,
)
from api.services import Services
from api.tape import Tape
from infra.readonly_sql import SqlLimits
from infra.settings import Settings, get_settings
from payments.gateway import PaymentGateway

# uvicorn's WebSocket implementation on the `websockets` sans-I/O core ("auto" picks the one
# on websockets' deprecated legacy API), with the paid stream's prebuilt frames.
WS_PROTOCOL = "api.websocket_protocol:WebSocketProtocol"

ROUTERS = (
    web.router,
    health.router,
    metrics.router,
    runs.router,
    history.router,
    candles.router,
    panels.router,
    alpha.router,
    sql.router,
    playback.router,
    ws.router,
)


def create_app(
    settings: Settings | None = None,
    *,
    ws_queue_size: int = 1000,
    sql_limits: SqlLimits | None = None,
    migrate_schema: bool = False,
    payments: PaymentGateway | None = None,
    candle_seed_wait_s: float = 10.0,
) -> FastAPI:
    """The API for these settings (servers are found when the app starts); with
    `migrate_schema` it applies the ClickHouse migrations once connected; the alpha stream
    takes `payments` where given, else the MPP_* environment (api/alpha_stream.py)."""
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings, migrate_schema=migrate_schema)
        await services.open()
        tape = Tape(services, queue_size=ws_queue_size)
        tape.start()
        candle_feed = CandleFeed(services, seed_wait_s=candle_seed_wait_s)
        with contextlib.suppress(TimeoutError):  # serve anyway; /health tells the story
            await asyncio.wait_for(tape.ready.wait(), 5.0)
        app.state.services = services
        app.state.tape = tape
        app.state.candle_feed = candle_feed
        app.state.stores = {}
        app.state.alpha = await AlphaStream.open(settings, services, payments)
        try:
            yield
        finally:
            await app.state.alpha.close()
            await candle_feed.stop()
            await tape.stop()
            await services.close()

    app = FastAPIOffline(  # /docs from packaged assets: no CDN, works offline
        title="flowtape",
        version="0.1.0",
        summary="Options flow: REST history, live tape (WebSocket), playback, read-only SQL.",
        lifespan=lifespan,
        default_response_class=JSON,
        exception_handlers=EXCEPTION_HANDLERS,
    )
    app.state.auth = Authenticator(settings)
    hide_frame_payloads()
    app.state.requests = RequestCounter()
    app.state.sql_limits = sql_limits or SqlLimits()
    app.middleware("http")(count_requests)
    for router in ROUTERS:
        app.include_router(router)
    if configured(payments):
        app.include_router(alpha_stream.router)
    return app
