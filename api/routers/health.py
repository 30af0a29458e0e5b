"""`/health`: each server's status and the live tape's, 200 only when all are up."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from api.dependencies import ServicesDep, TapeDep
from api.responses import JSON

router = APIRouter(tags=["ops"])


@router.get("/health")
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
    }
    return JSON(body, status_code=200 if up else 503)
