"""`/metrics`: Prometheus text of the servers, stored rows, requests served and the tape."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from api.dependencies import METRICS, RequestCounterDep, ServicesDep, TapeDep
from api.error_responses import AUTH, error_responses
from api.metrics import Exposition
from api.services import Services
from infra.warehouse import EVENT_TABLES

router = APIRouter(tags=["ops"])


@router.get(
    "/metrics",
    response_class=PlainTextResponse,
    dependencies=[METRICS],
    responses=error_responses(*AUTH, 503),  # keys only when METRICS_PUBLIC=false
)
async def metrics(services: ServicesDep, tape: TapeDep, requests: RequestCounterDep) -> Response:
    """Prometheus text: component up gauges, rows per event table for the live run,
    request counts and the tape's counters."""
    run_id = services.settings.run_id
    out = Exposition()
    components = await services.health()
    out.family(
        "flowtape_up",
        "gauge",
        "1 when the component answers, else 0.",
        [({"component": c}, int(v["up"])) for c, v in components.items()],
    )
    if components.get("clickhouse", {}).get("up"):
        counts = await asyncio.to_thread(_table_rows, services, run_id)
        out.family(
            "flowtape_table_rows",
            "gauge",
            "Rows stored per event table for the live run.",
            [({"table": t, "run_id": run_id}, n) for t, n in counts],
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


def _table_rows(services: Services, run_id: str) -> list[tuple[str, int]]:
    parts = [
        f"SELECT '{t}' AS t, count() AS n FROM `{t}` WHERE run_id = {{run:String}}"  # noqa: S608  (our table names)
        for t in EVENT_TABLES
    ]
    rows = services.warehouse().rows(" UNION ALL ".join(parts), {"run": run_id})
    return sorted((str(t), int(n)) for t, n in rows)
