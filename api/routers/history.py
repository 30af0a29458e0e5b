"""`/v1/packets`, `/v1/alerts`, `/v1/hits`, `/v1/darkpool`: stored derived events, newest
first, and one packet with its evidence."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api.dependencies import READ, StoreDep
from api.error_responses import AUTH, error_responses
from api.query_params import HistoryFilters, RunId, Underlyings, comma_separated
from api.responses import JSON
from api.store import ALERTS, DARKPOOL, HITS, PACKETS, Filters, Store, Table

# The list routes' time filters: 400 for a time that is not one.
BAD_FILTER = error_responses(400)

router = APIRouter(tags=["history"], dependencies=[READ], responses=error_responses(*AUTH, 503))

MinCents = Annotated[int | None, Query(ge=0)]
MAX_DTE = 36_500  # days: a century of expiries, and inside the Int32 the query binds
MAX_TS_MS = 9_000_000_000_000  # the year 2255: its ns stay inside the Int64 the query binds


def _listing(store: Store, table: Table, filters: Filters) -> Response:
    rows = store.latest(table, filters)
    return JSON({"run_id": filters.run_id, "count": len(rows), "items": rows})


@router.get("/v1/packets", responses=BAD_FILTER)
def packets(
    filters: HistoryFilters,
    underlying: Underlyings,
    store: StoreDep,
    kind: Annotated[str | None, Query(description="sweep, split, block, single, multi_leg")] = None,
    min_premium_cents: MinCents = None,
    dte_min: Annotated[
        int | None, Query(ge=0, le=MAX_DTE, description="A leg's days to expiry, from.")
    ] = None,
    dte_max: Annotated[
        int | None, Query(ge=0, le=MAX_DTE, description="... up to (inclusive).")
    ] = None,
    vol_over_oi: Annotated[
        bool, Query(description="A leg traded more today than its open interest.")
    ] = False,
) -> Response:
    """FlowPackets, newest first (by ts_start); members are in /v1/packets/{id}. The leg
    terms (DTE, vol > OI) hold when one leg meets them all; lone singles do not carry them."""
    return _listing(
        store,
        PACKETS,
        replace(
            filters,
            symbols=underlying,
            kind=kind,
            min_money_cents=min_premium_cents,
            dte_min=dte_min,
            dte_max=dte_max,
            vol_over_oi=vol_over_oi,
        ),
    )


@router.get("/v1/packets/{packet_id}", responses=error_responses(404))
def packet(
    packet_id: str,
    store: StoreDep,
    run_id: RunId = "live",
    ts_ms: Annotated[
        int | None,
        Query(
            ge=0,
            le=MAX_TS_MS,
            description="The packet's ts_start in ms, when known (the live tape's packets "
            "carry it): a single is then looked for in that moment only, not newest first "
            "through the run.",
        ),
    ] = None,
) -> Response:
    """One packet with its evidence: member prints (NBBO used, inference), hits, alerts."""
    evidence = store.packet_evidence(run_id, packet_id, ts_ms)
    if evidence is None:
        raise HTTPException(404, f"no packet {packet_id!r} in run {run_id!r}")
    return JSON(evidence)


@router.get("/v1/alerts", responses=BAD_FILTER)
def alerts(
    filters: HistoryFilters,
    underlying: Underlyings,
    store: StoreDep,
    rule: Annotated[str | None, Query(description="Alerts whose rules include it.")] = None,
    min_severity: Annotated[int | None, Query(ge=0, le=255)] = None,
) -> Response:
    """Alerts, newest first (by ts_event)."""
    return _listing(
        store, ALERTS, replace(filters, symbols=underlying, rule=rule, min_severity=min_severity)
    )


@router.get("/v1/hits", responses=BAD_FILTER)
def hits(
    filters: HistoryFilters,
    underlying: Underlyings,
    store: StoreDep,
    rule: Annotated[str | None, Query(description="The classifier rule.")] = None,
    min_premium_cents: MinCents = None,
) -> Response:
    """Classifier hits, newest first (by ts_event)."""
    return _listing(
        store,
        HITS,
        replace(filters, symbols=underlying, rule=rule, min_money_cents=min_premium_cents),
    )


@router.get("/v1/darkpool", responses=BAD_FILTER)
def darkpool(
    filters: HistoryFilters,
    store: StoreDep,
    symbol: Annotated[str | None, Query(description="Comma-separated symbols.")] = None,
    kind: str | None = None,
    min_notional_cents: MinCents = None,
) -> Response:
    """Dark-pool inferences, newest first (by ts_start), with their prints and caveats."""
    return _listing(
        store,
        DARKPOOL,
        replace(
            filters, symbols=comma_separated(symbol), kind=kind, min_money_cents=min_notional_cents
        ),
    )
