"""`/v1/alpha/{root}`: a root's stored alpha frames (the derived CME frame), newest first.

Only the derived frames are served here; the raw CME rows behind them stay inside.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path
from fastapi.responses import Response

from api.dependencies import READ, StoreDep
from api.error_responses import AUTH, error_responses
from api.query_params import HistoryFilters
from api.responses import JSON
from api.store import Filters
from api.views import plain
from infra.alpha_arrow import EXPIRY_FIELDS, expiry_from_row
from infra.warehouse import Warehouse
from schemas.cme import AlphaFrame

Root = Annotated[
    str, Path(min_length=1, max_length=16, description="The futures product, e.g. CL.")
]
router = APIRouter(tags=["alpha"], dependencies=[READ], responses=error_responses(*AUTH, 503))

_TIMES = frozenset({"ts_recv"})
_SCALARS = tuple(
    name for name in AlphaFrame.__struct_fields__ if name not in {"type", "run_id", "expiries"}
)
# The expiries' tuples with their expiration as integer ns (clickhouse-connect's datetimes
# stop at microseconds).
_EXPIRIES = "arrayMap(e -> ({}), expiries) AS expiries".format(
    ", ".join(
        "toUnixTimestamp64Nano(e.expiration)" if name == "expiration" else f"e.{name}"
        for name in EXPIRY_FIELDS
    )
)
_SELECT = ", ".join(
    [
        "log_seq",
        *(f"toUnixTimestamp64Nano({n}) AS {n}" if n in _TIMES else n for n in _SCALARS),
        _EXPIRIES,
    ]
)


def stored_frames(warehouse: Warehouse, root: str, filters: Filters) -> list[dict[str, Any]]:
    """The frames of `root` in the filters' run and time range, newest first, as JSON-ready
    frames with their `log_seq`."""
    clauses = ["run_id = {run_id:String}", "root = {root:String}"]
    params: dict[str, Any] = {"run_id": filters.run_id, "root": root, "limit": filters.limit}
    if filters.since_ns is not None:
        clauses.append("ts_recv >= fromUnixTimestamp64Nano({since:Int64})")
        params["since"] = filters.since_ns
    if filters.until_ns is not None:
        clauses.append("ts_recv < fromUnixTimestamp64Nano({until:Int64})")
        params["until"] = filters.until_ns
    result = warehouse.client.query(
        f"SELECT {_SELECT} FROM alpha_frames WHERE {' AND '.join(clauses)} "  # noqa: S608  (our columns; values are bound)
        "ORDER BY ts_recv DESC LIMIT {limit:UInt32} "
        "SETTINGS prefer_column_name_to_alias = 1",
        parameters=params,
    )
    names = list(result.column_names)
    items = []
    for values in result.result_rows:
        row = dict(zip(names, values, strict=True))
        log_seq = row.pop("log_seq")
        row["expiries"] = [expiry_from_row(e) for e in row["expiries"]]
        frame = AlphaFrame(run_id=filters.run_id, **row)
        items.append({**plain(frame), "log_seq": log_seq})
    return items


def _has_frames(warehouse: Warehouse, root: str, run_id: str) -> bool:
    return bool(
        warehouse.rows(
            "SELECT 1 FROM alpha_frames WHERE run_id = {run_id:String} AND root = {root:String} "
            "LIMIT 1",
            {"run_id": run_id, "root": root},
        )
    )


@router.get("/v1/alpha/{root}", responses=error_responses(400, 404))
def alpha_frames(
    root: Root,
    filters: HistoryFilters,
    store: StoreDep,
) -> Response:
    """A root's alpha frames (CL), newest first: the front future's mid, per-expiry parity
    forward, vols and rr25 with their counts, term slope, skew signal, signed flow, book
    imbalance, funding and the chain's health. 404 for a root without frames in the run."""
    warehouse = store.warehouse
    items = stored_frames(warehouse, root, filters)
    if not items and not _has_frames(warehouse, root, filters.run_id):
        raise HTTPException(404, f"no alpha frames of root {root!r} in run {filters.run_id!r}")
    return JSON({"run_id": filters.run_id, "root": root, "count": len(items), "items": items})
