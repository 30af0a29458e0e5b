"""The flowtape HTTP API: REST history, the live tape, playback, read-only SQL, health, metrics.

`create_app(settings)` builds the app; its lifespan finds the servers through infra.stack
(URLs from the settings, else a running `flowtape up`, else embedded ones it starts and
stops), opens one Warehouse and one Bus, and starts the tape reader. OpenAPI docs are at
/docs. JSON conventions (api/views.py): integer nanosecond timestamps, money in integer
cents, prices as int at 1e-9 with a `<name>_dollars` float beside them.

Playback (`GET /v1/playback/{run_id}`) is a server-sent event stream (text/event-stream):
it works with a plain `EventSource` in the browser and any HTTP client, needs no
subscription protocol, and reconnects are the client's choice. Each event is
`event: <channel>`, `id: <n>`, `data: {"channel", "source": "playback", "seq": n, "data"}`,
and a final `event: end`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Annotated, Any

import msgspec
from clickhouse_connect.driver.exceptions import OperationalError
from fastapi import FastAPI, HTTPException, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import FileResponse, PlainTextResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from pydantic import BaseModel, Field

import web
from api.metrics import Exposition, RequestCounter
from api.readonly_sql import SqlFailed, SqlLimits, SqlRejected, run_read_only
from api.services import Services, Unavailable
from api.store import ALERTS, DARKPOOL, HITS, MAX_LIMIT, PACKETS, Filters, Store, Table
from api.tape import CHANNEL_NAMES, Client, Tape, control
from api.views import BadTime, parse_time_ns
from infra.settings import Settings, get_settings
from infra.warehouse import EVENT_TABLES

log = logging.getLogger("flowtape.api")
WEB_DIR = Path(web.__file__).resolve().parent
# uvicorn's WebSocket implementation on the `websockets` sans-I/O core ("auto" picks the one
# on websockets' deprecated legacy API).
WS_PROTOCOL = "websockets-sansio"
_json = msgspec.json.Encoder(enc_hook=str)


class JSON(Response):
    """JSON via msgspec: exact big integers, NaN/inf as null, anything else as its str."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return _json.encode(content)


class SqlRequest(BaseModel):
    sql: str = Field(description="One read-only statement (SELECT, WITH, SHOW, DESCRIBE...).")
    max_rows: int | None = Field(None, ge=1, description="At most this many rows back.")


Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows back, newest first.")]
RunId = Annotated[str, Query(description="`live` or a replay's run id.")]
Symbols = Annotated[str | None, Query(description="Comma-separated underlyings.")]
Since = Annotated[str | None, Query(description="From this time: ISO 8601 or integer ns.")]
Until = Annotated[str | None, Query(description="Before this time: ISO 8601 or int ns.")]


def _finite(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _symbols(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def _time(name: str, text: str | None) -> int | None:
    try:
        return parse_time_ns(text)
    except BadTime as exc:
        raise HTTPException(400, f"{name}: {exc}") from exc


def create_app(
    settings: Settings | None = None,
    *,
    ws_queue_size: int = 5000,
    sql_limits: SqlLimits | None = None,
    migrate_schema: bool = False,
) -> FastAPI:
    """The API for these settings (servers are found when the app starts); with
    `migrate_schema` it applies the ClickHouse migrations once connected."""
    settings = settings or get_settings()
    limits = sql_limits or SqlLimits()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        services = Services(settings, migrate_schema=migrate_schema)
        await services.open()
        tape = Tape(services, queue_size=ws_queue_size)
        tape.start()
        with contextlib.suppress(TimeoutError):  # serve anyway; /health tells the story
            await asyncio.wait_for(tape.ready.wait(), 5.0)
        app.state.services = services
        app.state.tape = tape
        app.state.stores = {}
        try:
            yield
        finally:
            await tape.stop()
            await services.close()

    app = FastAPIOffline(  # /docs from packaged assets: no CDN, works offline
        title="flowtape",
        version="0.1.0",
        summary="Options flow: REST history, live tape (WebSocket), playback, read-only SQL.",
        lifespan=lifespan,
        default_response_class=JSON,
    )
    requests = RequestCounter()
    app.state.requests = requests

    @app.middleware("http")
    async def count_requests(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        status = 500
        try:
            response = await call_next(request)
            status = response.status_code
            return response
        finally:
            route = request.scope.get("route")
            requests.add(request.method, getattr(route, "path", "unmatched"), status)

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> Response:
        return JSON({"detail": str(exc), "code": exc.code}, status_code=503)

    @app.exception_handler(OperationalError)
    async def _clickhouse_unreachable(request: Request, exc: OperationalError) -> Response:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return JSON(
            {"detail": f"ClickHouse unreachable: {detail}", "code": "unavailable"}, status_code=503
        )

    @app.exception_handler(SqlRejected)
    @app.exception_handler(SqlFailed)
    async def _sql_error(request: Request, exc: SqlRejected | SqlFailed) -> Response:
        return JSON({"detail": exc.args[0], "code": exc.code}, status_code=400)

    def store(request: Request) -> Store:
        """The Store of the current Warehouse (blocking: endpoints using it are sync)."""
        warehouse = request.app.state.services.warehouse()
        stores: dict[int, Store] = request.app.state.stores
        if id(warehouse) not in stores:
            stores.clear()
            stores[id(warehouse)] = Store(warehouse)
        return stores[id(warehouse)]

    # ------------------------------------------------------------------ page, health, metrics

    app.mount("/web", StaticFiles(directory=WEB_DIR), name="web")

    @app.get("/", include_in_schema=False)
    def index() -> FileResponse:
        return FileResponse(WEB_DIR / "index.html")

    @app.get("/health", tags=["ops"])
    async def health(request: Request) -> Response:
        """Each component's status; 200 only when every one is up, else 503."""
        services: Services = request.app.state.services
        tape: Tape = request.app.state.tape
        components = await services.health()
        up = all(c["up"] for c in components.values())
        body = {
            "status": "ok" if up else "degraded",
            "components": components,
            "tape": {
                "following": tape.ready.is_set(),
                "position": tape.position,
                "clients": len(tape.clients),
            },
        }
        return JSON(body, status_code=200 if up else 503)

    @app.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
    async def metrics(request: Request) -> Response:
        """Prometheus text: component up gauges, rows per event table for the live run,
        request counts and the tape's counters."""
        services: Services = request.app.state.services
        tape: Tape = request.app.state.tape
        out = Exposition()
        components = await services.health()
        out.family(
            "flowtape_up",
            "gauge",
            "1 when the component answers, else 0.",
            [({"component": c}, int(v["up"])) for c, v in components.items()],
        )
        if components.get("clickhouse", {}).get("up"):
            counts = await asyncio.to_thread(_table_rows, services, settings.run_id)
            out.family(
                "flowtape_table_rows",
                "gauge",
                "Rows stored per event table for the live run.",
                [({"table": t, "run_id": settings.run_id}, n) for t, n in counts],
            )
        out.family(
            "flowtape_api_requests_total", "counter", "HTTP requests served.", requests.samples()
        )
        m = tape.metrics
        out.family(
            "flowtape_tape_position",
            "gauge",
            "Last DERIVED sequence the live tape handed out.",
            [({}, tape.position or 0)],
        )
        out.family(
            "flowtape_tape_clients", "gauge", "WebSocket subscribers.", [({}, len(tape.clients))]
        )
        for name, value, text in (
            ("messages_read", m.messages_read, "DERIVED messages read by the tape."),
            ("events_read", m.events_read, "Events read by the tape."),
            ("deliveries", m.deliveries, "Event messages queued to subscribers."),
            ("dropped", m.dropped, "Event messages dropped for subscribers too slow."),
            ("reader_errors", m.reader_errors, "Times the tape reader was reopened."),
        ):
            out.family(f"flowtape_tape_{name}_total", "counter", text, [({}, value)])
        return PlainTextResponse(out.render(), media_type="text/plain; version=0.0.4")

    # ------------------------------------------------------------------ runs

    @app.get("/v1/runs", tags=["runs"])
    def runs(request: Request) -> Response:
        """Registered runs (replays, backtests), plus runs that only have stored rows."""
        from infra.runs import list_runs

        st = store(request)
        registered = list_runs(st.warehouse)
        names = {r["run_id"] for r in registered}
        extra = [
            {
                "run_id": r,
                "kind": "unregistered",
                "status": "",
                "description": "",
                "created_at": None,
                "updated_at": None,
            }
            for r in st.unregistered_runs(names)
        ]
        return JSON({"runs": registered + extra})

    @app.get("/v1/runs/{run_id}/report", tags=["runs"])
    def run_report(request: Request, run_id: str) -> Response:
        """The backtest report of a run: summary per signal kind and score calibration."""
        from analytics.report import build_report

        st = store(request)
        if not st.run_known(run_id):
            raise HTTPException(404, f"no run {run_id!r}: not registered and no stored rows")
        report = build_report(st.warehouse, run_id)
        return JSON(
            {
                "run_id": run_id,
                "signals": report.signals.height,
                "summary": [
                    {k: _finite(v) for k, v in r.items()} for r in report.summary.to_dicts()
                ],
                "calibration": [
                    {k: _finite(v) for k, v in r.items()} for r in report.calibration.to_dicts()
                ],
            }
        )

    # ------------------------------------------------------------------ history

    def listing(request: Request, table: Table, filters: Filters) -> Response:
        rows = store(request).list(table, filters)
        return JSON({"run_id": filters.run_id, "count": len(rows), "items": rows})

    @app.get("/v1/packets", tags=["history"])
    def packets(
        request: Request,
        run_id: RunId = "live",
        underlying: Symbols = None,
        kind: Annotated[
            str | None, Query(description="sweep, split, block, single, multi_leg")
        ] = None,  # noqa: E501
        since: Since = None,
        until: Until = None,
        min_premium_cents: Annotated[int | None, Query(ge=0)] = None,
        limit: Limit = 100,
    ) -> Response:
        """FlowPackets, newest first (by ts_start); members are in /v1/packets/{id}."""
        return listing(
            request,
            PACKETS,
            Filters(
                run_id=run_id,
                symbols=_symbols(underlying),
                kind=kind,
                since_ns=_time("since", since),
                until_ns=_time("until", until),
                min_money_cents=min_premium_cents,
                limit=limit,
            ),
        )

    @app.get("/v1/packets/{packet_id}", tags=["history"])
    def packet(request: Request, packet_id: str, run_id: RunId = "live") -> Response:
        """One packet with its evidence: member prints (NBBO used, inference), hits, alerts."""
        evidence = store(request).packet_evidence(run_id, packet_id)
        if evidence is None:
            raise HTTPException(404, f"no packet {packet_id!r} in run {run_id!r}")
        return JSON(evidence)

    @app.get("/v1/alerts", tags=["history"])
    def alerts(
        request: Request,
        run_id: RunId = "live",
        underlying: Symbols = None,
        rule: Annotated[str | None, Query(description="Alerts whose rules include it.")] = None,
        min_severity: Annotated[int | None, Query(ge=0, le=255)] = None,
        since: Since = None,
        until: Until = None,
        limit: Limit = 100,
    ) -> Response:
        """Alerts, newest first (by ts_event)."""
        return listing(
            request,
            ALERTS,
            Filters(
                run_id=run_id,
                symbols=_symbols(underlying),
                rule=rule,
                min_severity=min_severity,
                since_ns=_time("since", since),
                until_ns=_time("until", until),
                limit=limit,
            ),
        )

    @app.get("/v1/hits", tags=["history"])
    def hits(
        request: Request,
        run_id: RunId = "live",
        underlying: Symbols = None,
        rule: Annotated[str | None, Query(description="The classifier rule.")] = None,
        since: Since = None,
        until: Until = None,
        min_premium_cents: Annotated[int | None, Query(ge=0)] = None,
        limit: Limit = 100,
    ) -> Response:
        """Classifier hits, newest first (by ts_event)."""
        return listing(
            request,
            HITS,
            Filters(
                run_id=run_id,
                symbols=_symbols(underlying),
                rule=rule,
                since_ns=_time("since", since),
                until_ns=_time("until", until),
                min_money_cents=min_premium_cents,
                limit=limit,
            ),
        )

    @app.get("/v1/darkpool", tags=["history"])
    def darkpool(
        request: Request,
        run_id: RunId = "live",
        symbol: Annotated[str | None, Query(description="Comma-separated symbols.")] = None,
        kind: str | None = None,
        since: Since = None,
        until: Until = None,
        min_notional_cents: Annotated[int | None, Query(ge=0)] = None,
        limit: Limit = 100,
    ) -> Response:
        """Dark-pool inferences, newest first (by ts_start), with their prints and caveats."""
        return listing(
            request,
            DARKPOOL,
            Filters(
                run_id=run_id,
                symbols=_symbols(symbol),
                kind=kind,
                since_ns=_time("since", since),
                until_ns=_time("until", until),
                min_money_cents=min_notional_cents,
                limit=limit,
            ),
        )

    # ------------------------------------------------------------------ SQL

    @app.post("/v1/sql", tags=["sql"])
    def sql(request: Request, body: SqlRequest) -> Response:
        """One read-only statement, run with readonly=1, a row cap and a time limit; anything
        else is refused with 400."""
        from api.readonly_sql import check_read_only

        check_read_only(body.sql)  # a clear 400 before touching the server
        return JSON(run_read_only(store(request).warehouse, body.sql, limits, body.max_rows))

    @app.get("/v1/queries", tags=["sql"])
    def queries() -> Response:
        """The named analytics queries (sql/queries) and their parameters."""
        from analytics.queries import list_queries

        return JSON({"queries": [q.as_dict() for q in list_queries()]})

    @app.get("/v1/queries/{name}", tags=["sql"])
    def named_query(request: Request, name: str) -> Response:
        """Run a named query; its parameters are the query string (`?k=v`)."""
        from analytics.queries import QueryError, get_query, run_query

        try:
            get_query(name)
        except QueryError as exc:
            raise HTTPException(404, str(exc)) from exc
        try:
            columns, rows = run_query(store(request).warehouse, name, dict(request.query_params))
        except QueryError as exc:
            raise HTTPException(400, str(exc)) from exc
        return JSON({"name": name, "columns": columns, "rows": rows, "row_count": len(rows)})

    # ------------------------------------------------------------------ playback

    @app.get("/v1/playback/{run_id}", tags=["playback"], response_class=StreamingResponse)
    async def playback(
        request: Request,
        run_id: str,
        speed: Annotated[float, Query(ge=0, description="1 = event time; 0 = no waiting.")] = 1.0,  # noqa: E501
        from_: Annotated[str | None, Query(alias="from", description="ISO 8601 or int ns.")] = None,  # noqa: E501
        until: Until = None,
        underlying: Symbols = None,
        channels: Annotated[str, Query(description="packets and/or alerts")] = "packets,alerts",
        max_wait_s: Annotated[
            float, Query(gt=0, description="Longer quiet spells shrink to this.")
        ] = 5.0,  # noqa: E501
    ) -> Response:
        """A stored run's packets and alerts as server-sent events, in event-time order, at
        `speed` times the original pace."""
        wanted = [c for c in _symbols(channels) if c in ("packets", "alerts")]
        if not wanted:
            raise HTTPException(400, f"channels: expected packets and/or alerts, got {channels!r}")
        filters = Filters(
            run_id=run_id,
            symbols=_symbols(underlying),
            since_ns=_time("from", from_),
            until_ns=_time("until", until),
        )
        st = await asyncio.to_thread(store, request)
        if not await asyncio.to_thread(st.run_known, run_id):
            raise HTTPException(404, f"no run {run_id!r}: not registered and no stored rows")
        tables = [(PACKETS, "packets"), (ALERTS, "alerts")]
        sources = [_pages(st, t, c, filters) for t, c in tables if c in wanted]
        return StreamingResponse(
            _paced(_merged(sources), speed, max_wait_s),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )

    # ------------------------------------------------------------------ live tape

    @app.websocket("/v1/ws")
    async def live_tape(websocket: WebSocket) -> None:
        """The live tape; protocol in api/tape.py."""
        await websocket.accept()
        tape: Tape = websocket.app.state.tape
        client = Client(tape.queue_size)
        sender = asyncio.create_task(_send(websocket, client))
        subscribing: asyncio.Task[None] | None = None
        try:
            while True:
                text = await websocket.receive_text()
                subscribing = await _command(tape, client, text, subscribing)
        except WebSocketDisconnect:
            pass
        finally:
            tape.remove(client)
            for task in (sender, subscribing):
                if task is not None:
                    task.cancel()
            await asyncio.gather(
                sender, *([subscribing] if subscribing else []), return_exceptions=True
            )

    return app


# ---------------------------------------------------------------------- helpers


def _table_rows(services: Services, run_id: str) -> list[tuple[str, int]]:
    parts = [
        f"SELECT '{t}' AS t, count() AS n FROM `{t}` WHERE run_id = {{run:String}}"  # noqa: S608  (our table names)
        for t in EVENT_TABLES
    ]
    rows = services.warehouse().rows(" UNION ALL ".join(parts), {"run": run_id})
    return sorted((str(t), int(n)) for t, n in rows)


class _Command(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    channels: list[str] | None = None
    symbols: list[str] | None = None
    since_seq: int | None = None


_command_decoder = msgspec.json.Decoder(_Command)


async def _command(
    tape: Tape, client: Client, text: str, subscribing: asyncio.Task[None] | None
) -> asyncio.Task[None] | None:
    """Apply one client command; returns the running subscription task, if any."""
    try:
        command = _command_decoder.decode(text)
    except msgspec.DecodeError as exc:
        client.say(
            control(
                "error", detail=f'expected a JSON command {{"action": "subscribe", ...}}: {exc}'
            )
        )
        return subscribing
    unknown = sorted(set(command.channels or []) - set(CHANNEL_NAMES))
    if unknown:
        client.say(
            control(
                "error",
                detail=f"unknown channels {unknown}; expected some of {list(CHANNEL_NAMES)}",
            )
        )
        return subscribing
    if command.action == "subscribe":
        if subscribing is not None and not subscribing.done():
            subscribing.cancel()
        channels = set(command.channels or CHANNEL_NAMES)
        symbols = frozenset(s.strip().upper() for s in command.symbols or [] if s.strip())
        return asyncio.create_task(_subscribe(tape, client, channels, symbols, command.since_seq))
    if command.action == "unsubscribe":
        channels = set(command.channels) if command.channels else None
        tape.unsubscribe(client, channels)
        client.say(control("unsubscribed", channels=sorted(client.channels)))
        return subscribing
    if command.action == "ping":
        client.say(control("pong", seq=tape.position))
        return subscribing
    client.say(
        control(
            "error",
            detail=f"expected action subscribe, unsubscribe or ping, got {command.action!r}",
        )
    )
    return subscribing


async def _subscribe(
    tape: Tape, client: Client, channels: set[str], symbols: frozenset[str], since: int | None
) -> None:
    try:
        await tape.subscribe(client, channels, symbols, since)
    except TimeoutError:
        client.say(
            control(
                "error",
                detail="the live tape is not following DERIVED (NATS down or no stream yet); retry",
            )
        )
    except Exception as exc:
        client.say(control("error", detail=f"subscription failed: {exc}"))


async def _send(websocket: WebSocket, client: Client) -> None:
    while True:
        await websocket.send_text(await client.next())


_Item = tuple[int, int, str, str, dict[str, Any]]  # (ts, channel rank, id, channel, data)


async def _pages(
    st: Store, table: Table, channel: str, filters: Filters, size: int = 500
) -> AsyncIterator[_Item]:
    rank = 0 if table is PACKETS else 1  # a packet goes before the alert raised on it
    after: tuple[int, str] | None = None
    while True:
        page = await asyncio.to_thread(st.page, table, filters, after, size)
        for ts, item_id, data in page:
            yield ts, rank, item_id, channel, data
        if len(page) < size:
            return
        after = page[-1][0], page[-1][1]


async def _merged(sources: list[AsyncIterator[_Item]]) -> AsyncIterator[_Item]:
    """Merge sorted async iterators by (ts, rank, id)."""
    heads: list[tuple[_Item, int]] = []
    for index, source in enumerate(sources):
        first = await anext(source, None)
        if first is not None:
            heads.append((first, index))
    while heads:
        heads.sort(key=lambda h: h[0][:3])
        item, index = heads.pop(0)
        yield item
        following = await anext(sources[index], None)
        if following is not None:
            heads.append((following, index))


async def _paced(
    items: AsyncIterator[_Item], speed: float, max_wait_s: float
) -> AsyncIterator[str]:
    loop = asyncio.get_running_loop()
    target = loop.time()
    previous: int | None = None
    seq = 0
    async for ts, _, _, channel, data in items:
        if speed > 0 and previous is not None:
            target += min(max(ts - previous, 0) / 1e9 / speed, max_wait_s)
            delay = target - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
        previous = ts
        seq += 1
        body = _json.encode({"channel": channel, "source": "playback", "seq": seq, "data": data})
        yield f"event: {channel}\nid: {seq}\ndata: {body.decode()}\n\n"
    yield f"event: end\ndata: {control('end', count=seq)}\n\n"
