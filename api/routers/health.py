"""`/health` (the infra.health contract): ok with every server up, degraded with some down,
down with none; each server's status, the live tape's, and the ingest sources' counters
(repeats skipped among them) as their services last wrote them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from api.alpha_stream import AlphaStream
from api.dependencies import ServicesDep, TapeDep
from api.responses import JSON
from infra.health import HealthStatus, http_status

router = APIRouter(tags=["ops"])

# Written by each `flowtape ingest` in the data folder (ingest.service.METRICS_FILE).
INGEST_METRICS_GLOB = "ingest-metrics-*.json"


@router.get(
    "/health",
    responses={503: {"description": "A component is down; the body is the same report."}},
)
async def health(request: Request, services: ServicesDep, tape: TapeDep) -> Response:
    """Each component's status; 200 only when every one is up, else 503."""
    components = await services.health()
    for name, component in components.items():
        tape.health.condition(name, not component["up"], f"{name}: {component.get('detail', '')}")
    up = [c["up"] for c in components.values()]
    status: HealthStatus = "ok" if all(up) else "degraded" if any(up) else "down"
    extra: dict[str, Any] = {}
    alpha: AlphaStream | None = getattr(request.app.state, "alpha", None)
    if alpha is not None and alpha.gateway is not None:
        extra["alphaStream"] = stream = alpha.report()
        settlement = stream["settlement"] or {}
        breaker_open = bool(settlement.get("circuitBreakerOpen"))
        message = f"settlement circuit open: {settlement.get('lastFailureKind', '')}"
        tape.health.condition("settlement", breaker_open, message)
        if breaker_open and status == "ok":
            status = "degraded"
    body = tape.health.report(
        status,
        components=components,
        tape={
            "following": tape.ready.is_set(),
            "position": tape.position,
            "clients": len(tape.clients),
        },
        ingest=_ingest_metrics(services.settings.data_dir),
        **extra,
    )
    return JSON(body, status_code=http_status(body))


def _ingest_metrics(data_dir: Path) -> dict[str, dict[str, Any]]:
    sources: dict[str, dict[str, Any]] = {}
    for path in sorted(data_dir.resolve().glob(INGEST_METRICS_GLOB)):
        try:
            metrics = json.loads(path.read_text())
        except (OSError, ValueError):
            continue  # being replaced or gone: the next request reads it
        if isinstance(metrics, dict):
            sources[str(metrics.get("source", path.stem))] = metrics
    return sources
