"""`/v1/runs`: the registered runs, and a run's backtest report."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from fastapi.responses import Response

from analytics.report import build_report
from api.dependencies import READ, StoreDep
from api.error_responses import AUTH, error_responses
from api.responses import JSON
from infra.runs import list_runs

router = APIRouter(tags=["runs"], dependencies=[READ], responses=error_responses(*AUTH, 503))


@router.get("/v1/runs")
def runs(store: StoreDep) -> Response:
    """Registered runs (replays, backtests), plus runs that only have stored rows."""
    registered = list_runs(store.warehouse)
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
        for r in store.unregistered_runs(names)
    ]
    return JSON({"runs": registered + extra})


@router.get("/v1/runs/{run_id}/report", responses=error_responses(404))
def run_report(run_id: str, store: StoreDep) -> Response:
    """The backtest report of a run: summary per signal kind and score calibration."""
    if not store.run_known(run_id):
        raise HTTPException(404, f"no run {run_id!r}: not registered and no stored rows")
    report = build_report(store.warehouse, run_id)
    return JSON(
        {
            "run_id": run_id,
            "signals": report.signals.height,
            "summary": report.summary.to_dicts(),  # JSON writes NaN and inf as null
            "calibration": report.calibration.to_dicts(),
        }
    )
