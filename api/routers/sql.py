"""`/v1/sql` (one read-only statement) and `/v1/queries` (the named analytics queries)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from analytics.queries import QueryError, get_query, list_queries, run_query
from api.dependencies import READ, BearerKey, HeaderKey, SqlLimitsDep, StoreDep, get_auth
from api.error_responses import AUTH, error_responses
from api.responses import JSON
from infra.readonly_sql import check_read_only, run_read_only

router = APIRouter(tags=["sql"], responses=error_responses(*AUTH))


class SqlRequest(BaseModel):
    sql: str = Field(description="One read-only statement (SELECT, WITH, SHOW, DESCRIBE...).")
    max_rows: int | None = Field(None, ge=1, description="At most this many rows back.")


def read_only_request(body: SqlRequest) -> SqlRequest:
    """The request, once its statement passed the read-only check (a clear 400 before the
    store, and so the server, is reached)."""
    check_read_only(body.sql)
    return body


def sql_caller_reads_raw_cme(request: Request, bearer: BearerKey, header: HeaderKey) -> bool:
    """The `sql` scope check (as SQL does it) and whether the caller may also take raw CME
    data out: an admin key, or development mode, which serves loopback only."""
    key = bearer.credentials if bearer else header
    record = get_auth(request).authorize(request, "sql", key)
    return record is None or record.allows("admin")


def known_query(name: str) -> str:
    """The name of a named query, or a 404 (before the store is reached)."""
    try:
        get_query(name)
    except QueryError as exc:
        raise HTTPException(404, str(exc)) from exc
    return name


@router.post("/v1/sql", responses=error_responses(400, 503))
def sql(
    # First: the key is checked before the statement is looked at.
    raw_cme: Annotated[bool, Depends(sql_caller_reads_raw_cme)],
    body: Annotated[SqlRequest, Depends(read_only_request)],
    store: StoreDep,
    limits: SqlLimitsDep,
) -> Response:
    """One read-only statement, run with readonly=1, a row cap and a time limit; anything
    else, and raw CME tables for a key without the admin scope, is refused with 400."""
    result = run_read_only(store.warehouse, body.sql, limits, body.max_rows, raw_cme=raw_cme)
    return JSON(result)


@router.get("/v1/queries", dependencies=[READ])
def queries() -> Response:
    """The named analytics queries (sql/queries) and their parameters."""
    return JSON({"queries": [q.as_dict() for q in list_queries()]})


@router.get("/v1/queries/{name}", dependencies=[READ], responses=error_responses(400, 404, 503))
def named_query(
    request: Request, name: Annotated[str, Depends(known_query)], store: StoreDep
) -> Response:
    """Run a named query; its parameters are the query string (`?k=v`)."""
    try:
        columns, rows = run_query(store.warehouse, name, dict(request.query_params))
    except QueryError as exc:
        raise HTTPException(400, str(exc)) from exc
    return JSON({"name": name, "columns": columns, "rows": rows, "row_count": len(rows)})
