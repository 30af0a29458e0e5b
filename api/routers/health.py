"""`/health`: each server's status and the live tape's, 200 only when all are up; the
ingest sources' counters (repeats skipped among them) as their services last wrote them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import Response

from api.dependencies import ServicesDep, TapeDep
from api.responses import JSON

router = APIRouter(tags=["ops"])

# Written by each `flowtape ingest` in the data folder (ingest.service.METRICS_FILE).
INGEST_METRICS_GLOB = "ingest-metrics-*.json"


@router.get(
    "/health",
    responses={503: {"description": "A component is down; the body is the same report."}},
)
async def health(services: ServicesDep, tape: TapeDep) -> Response:
    """Each component's status; 200 only when every one is up, else 503."""
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
        "ingest": _ingest_metrics(services.settings.data_dir),
    }
    return JSON(body, status_code=200 if up else 503)


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
