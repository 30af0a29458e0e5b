"""What the web page's panels read besides the derived-event lists: option and equity prints,
net call/put premium per minute, top tickers, a run's time span and the venue names.

Money is integer cents and prices are int at 1e-9 with `<name>_dollars` beside them, as in
every other route (api/views.py); rows come newest first.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal

from databento import Publisher
from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import Response

from api.dependencies import READ, StoreDep
from api.error_responses import AUTH, error_responses
from api.query_params import Limit, RunId, Since, Symbols, Underlyings, comma_separated, time_ns
from api.responses import JSON
from api.views import with_dollars
from infra.warehouse import Warehouse

router = APIRouter(tags=["panels"], dependencies=[READ], responses=error_responses(*AUTH, 503))

_OPTION_PRINTS = """
SELECT toUnixTimestamp64Nano(ts_event) AS ts_event, publisher_id, instrument_id, sequence,
       symbol, underlying, price, size, toInt64(intDiv(toInt128(price) * size, 100000))
       AS premium_cents
FROM option_prints
WHERE {where}
ORDER BY ts_event DESC, publisher_id DESC, instrument_id DESC, sequence DESC
LIMIT {{limit:UInt32}}
SETTINGS prefer_column_name_to_alias = 1
"""

# The inference of the prints above (side, bucket, the NBBO used), matched by print key.
_INFERENCE = """
SELECT toUnixTimestamp64Nano(ts_event) AS ts_event, publisher_id, instrument_id, sequence,
       toString(side) AS side, toString(bucket) AS bucket, toString(right) AS right,
       if(nbbo_status IN ('print', 'joined', 'held'), nbbo_bid_px, NULL) AS nbbo_bid_px,
       if(nbbo_status IN ('print', 'joined', 'held'), nbbo_ask_px, NULL) AS nbbo_ask_px
FROM print_inference
WHERE run_id = {run_id:String} AND underlying IN {underlyings:Array(String)}
  AND ts_event >= fromUnixTimestamp64Nano({start:Int64})
  AND ts_event <= fromUnixTimestamp64Nano({end:Int64})
SETTINGS prefer_column_name_to_alias = 1
"""

_EQUITY_PRINTS = """
SELECT toUnixTimestamp64Nano(ts_event) AS ts_event, publisher_id, sequence, symbol, venue,
       off_exchange, price, size, toString(side) AS side, bid_px, ask_px
FROM equity_prints
WHERE {where}
ORDER BY ts_event DESC, publisher_id DESC, sequence DESC
LIMIT {{limit:UInt32}}
SETTINGS prefer_column_name_to_alias = 1
"""

_NET_PREMIUM = """
SELECT toUnixTimestamp(minute) * 1000000000 AS minute_ns, sum(prints) AS prints,
       sum(call_buy_cents) AS call_buy_cents, sum(call_sell_cents) AS call_sell_cents,
       sum(put_buy_cents) AS put_buy_cents, sum(put_sell_cents) AS put_sell_cents,
       sum(call_buy_cents + call_sell_cents + call_unknown_cents) AS call_cents,
       sum(put_buy_cents + put_sell_cents + put_unknown_cents) AS put_cents
FROM net_premium_minute
WHERE {where}
GROUP BY minute
ORDER BY minute DESC
LIMIT {{limit:UInt32}}
SETTINGS prefer_column_name_to_alias = 1
"""

_TOP_TICKERS = """
SELECT underlying, sum(prints) AS prints,
       sum(call_buy_cents + call_sell_cents + call_unknown_cents) AS call_cents,
       sum(put_buy_cents + put_sell_cents + put_unknown_cents) AS put_cents,
       sum(call_buy_cents - call_sell_cents) AS net_call_cents,
       sum(put_buy_cents - put_sell_cents) AS net_put_cents
FROM net_premium_minute
WHERE {where}
GROUP BY underlying
ORDER BY call_cents + put_cents DESC, underlying
LIMIT {{limit:UInt32}}
SETTINGS prefer_column_name_to_alias = 1
"""

# A run's span as playback sees it: its packets and alerts, and the prints lone singles are.
_SPAN = """
SELECT min(t) AS first_ns, max(t) AS last_ns, sum(packets) AS packets, sum(alerts) AS alerts
FROM (
    SELECT toUnixTimestamp64Nano(min(ts_start)) AS t, count() AS packets, 0 AS alerts
    FROM flow_packets WHERE run_id = {run_id:String} HAVING count() > 0
    UNION ALL
    SELECT toUnixTimestamp64Nano(max(ts_start)), 0, 0
    FROM flow_packets WHERE run_id = {run_id:String} HAVING count() > 0
    UNION ALL
    SELECT toUnixTimestamp64Nano(min(ts_event)), 0, count()
    FROM alerts WHERE run_id = {run_id:String} HAVING count() > 0
    UNION ALL
    SELECT toUnixTimestamp64Nano(max(ts_event)), 0, 0
    FROM alerts WHERE run_id = {run_id:String} HAVING count() > 0
    UNION ALL
    SELECT toUnixTimestamp64Nano(min(ts_event)), 0, 0
    FROM print_inference WHERE run_id = {run_id:String} HAVING count() > 0
    UNION ALL
    SELECT toUnixTimestamp64Nano(max(ts_event)), 0, 0
    FROM print_inference WHERE run_id = {run_id:String} HAVING count() > 0
)
"""


def _dicts(warehouse: Warehouse, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    result = warehouse.client.query(sql, parameters=params)
    names = list(result.column_names)
    return [dict(zip(names, row, strict=True)) for row in result.result_rows]


def _where(
    run_id: str, symbol_column: str, symbols: list[str], time_column: str, since: int | None
) -> tuple[list[str], dict[str, Any]]:
    clauses = ["run_id = {run_id:String}"]
    params: dict[str, Any] = {"run_id": run_id}
    if symbols:
        clauses.append(f"{symbol_column} IN {{symbols:Array(String)}}")
        params["symbols"] = symbols
    if since is not None:
        clauses.append(f"{time_column} >= fromUnixTimestamp64Nano({{since:Int64}})")
        params["since"] = since
    return clauses, params


def _from_minute(clauses: list[str], params: dict[str, Any], since: str | None) -> None:
    """Minutes from the one holding `since` (net_premium_minute is by minute)."""
    since_ns = time_ns("since", since)
    if since_ns is not None:
        clauses.append("minute >= toDateTime(intDiv({since:Int64}, 1000000000), 'UTC')")
        params["since"] = since_ns


@router.get("/v1/prints/options", responses=error_responses(400))
def option_prints(
    store: StoreDep,
    underlying: Underlyings,
    right: Annotated[
        Literal["C", "P"] | None, Query(description="Only calls (C) or only puts (P).")
    ] = None,
    run_id: RunId = "live",
    since: Since = None,
    limit: Limit = 100,
) -> Response:
    """Option prints, newest first, with their inferred side and bucket and the NBBO used
    (null where the engine had none or has not placed the print yet)."""
    clauses, params = _where(run_id, "underlying", underlying, "ts_event", time_ns("since", since))
    if right is not None:
        # the OSI symbol's C/P letter, nine from the end (`AAPL  250228C00190000`)
        clauses.append("substring(symbol, -9, 1) = {right:String}")
        params["right"] = right
    params["limit"] = limit
    rows = _dicts(store.warehouse, _OPTION_PRINTS.format(where=" AND ".join(clauses)), params)
    placed: dict[tuple[int, int, int, int], dict[str, Any]] = {}
    if rows:
        times = [r["ts_event"] for r in rows]
        for found in _dicts(
            store.warehouse,
            _INFERENCE,
            {
                "run_id": run_id,
                "underlyings": sorted({r["underlying"] for r in rows}),
                "start": min(times),
                "end": max(times),
            },
        ):
            placed[_print_key(found)] = found
    items = []
    for row in rows:
        inference = placed.get(_print_key(row), {})
        row["side"] = inference.get("side")
        row["bucket"] = inference.get("bucket")
        row["right"] = inference.get("right") or _right_of(row["symbol"])
        row["nbbo_bid_px"] = inference.get("nbbo_bid_px")
        row["nbbo_ask_px"] = inference.get("nbbo_ask_px")
        items.append(with_dollars(row))
    return JSON({"run_id": run_id, "count": len(items), "items": items})


def _print_key(row: dict[str, Any]) -> tuple[int, int, int, int]:
    return row["ts_event"], row["publisher_id"], row["instrument_id"], row["sequence"]


def _right_of(symbol: str) -> str | None:
    """C or P from an OSI symbol (`AAPL  250228C00190000`)."""
    return symbol[-9] if len(symbol) >= 15 and symbol[-9] in "CP" else None


@router.get("/v1/prints/equities", responses=error_responses(400))
def equity_prints(
    store: StoreDep,
    symbol: Symbols = None,
    off_exchange: Annotated[
        bool | None, Query(description="Only off-exchange (true) or only lit (false) prints.")
    ] = None,
    run_id: RunId = "live",
    since: Since = None,
    limit: Limit = 100,
) -> Response:
    """Equity prints, newest first; `off_exchange` marks TRF/ATS/internalised prints."""
    clauses, params = _where(
        run_id, "symbol", comma_separated(symbol), "ts_event", time_ns("since", since)
    )
    if off_exchange is not None:
        clauses.append("off_exchange = {off_exchange:Bool}")
        params["off_exchange"] = off_exchange
    params["limit"] = limit
    rows = _dicts(store.warehouse, _EQUITY_PRINTS.format(where=" AND ".join(clauses)), params)
    items = [with_dollars(r) for r in rows]
    return JSON({"run_id": run_id, "count": len(items), "items": items})


@router.get("/v1/flow/net-premium", responses=error_responses(400))
def net_premium(
    store: StoreDep,
    underlying: Underlyings,
    run_id: RunId = "live",
    since: Since = None,
    limit: Limit = 390,
) -> Response:
    """Option premium per minute by right and inferred side (summed over the underlyings
    asked for, all when none), newest minute first; net = bought - sold."""
    clauses, params = _where(run_id, "underlying", underlying, "minute", None)
    _from_minute(clauses, params, since)
    params["limit"] = limit
    rows = _dicts(store.warehouse, _NET_PREMIUM.format(where=" AND ".join(clauses)), params)
    for row in rows:
        row["net_call_cents"] = row["call_buy_cents"] - row["call_sell_cents"]
        row["net_put_cents"] = row["put_buy_cents"] - row["put_sell_cents"]
    return JSON({"run_id": run_id, "count": len(rows), "items": rows})


@router.get("/v1/flow/top-tickers", responses=error_responses(400))
def top_tickers(
    store: StoreDep,
    run_id: RunId = "live",
    since: Since = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 20,
) -> Response:
    """Underlyings by option premium traded (calls + puts), largest first."""
    clauses, params = _where(run_id, "underlying", [], "minute", None)
    _from_minute(clauses, params, since)
    params["limit"] = limit
    rows = _dicts(store.warehouse, _TOP_TICKERS.format(where=" AND ".join(clauses)), params)
    return JSON({"run_id": run_id, "count": len(rows), "items": rows})


@router.get("/v1/runs/{run_id}/span", responses=error_responses(404))
def run_span(run_id: str, store: StoreDep) -> Response:
    """The first and last event time playback of this run covers, and its packet and alert
    counts (lone singles are counted as prints, not packets)."""
    if not store.run_known(run_id):
        raise HTTPException(404, f"no run {run_id!r}: not registered and no stored rows")
    found = _dicts(store.warehouse, _SPAN, {"run_id": run_id})
    span = found[0] if found else {}
    return JSON(
        {
            "run_id": run_id,
            "first_ns": span.get("first_ns") if span.get("last_ns") else None,
            "last_ns": span.get("last_ns") or None,
            "packets": span.get("packets") or 0,
            "alerts": span.get("alerts") or 0,
        }
    )


@router.get("/v1/venues")
def venues() -> Response:
    """Databento's publisher table: each publisher id with its venue code and name."""
    return JSON({"venues": _venue_table()})


@cache
def _venue_table() -> list[dict[str, Any]]:
    return [
        {
            "publisher_id": int(p.to_int()),
            "venue": str(p.venue),
            "dataset": str(p.dataset),
            "description": str(p.description),
        }
        for p in Publisher
    ]
