"""How errors reach HTTP clients: a status code and a body of `detail` and `code`."""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine
from typing import Any

from clickhouse_connect.driver.exceptions import DatabaseError, OperationalError
from fastapi import Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from api.responses import JSON
from api.services import Unavailable
from api.store import MissingTable
from infra.readonly_sql import SqlFailed, SqlRejected


async def unavailable(request: Request, exc: Unavailable) -> Response:
    return JSON({"detail": str(exc), "code": exc.code}, status_code=503)


async def clickhouse_unreachable(request: Request, exc: OperationalError) -> Response:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return JSON(
        {"detail": f"ClickHouse unreachable: {detail}", "code": "unavailable"}, status_code=503
    )


# ClickHouse's UNKNOWN_TABLE, worded by the analyzer or by the older paths.
UNKNOWN_TABLE = 60
_MISSING_TABLE = re.compile(
    r"Unknown table expression identifier '([^']+)'|Table (\S+) does(?: not|n't) exist"
)


def missing_table(exc: DatabaseError) -> str | None:
    """The table a ClickHouse error says is missing, or None for any other error."""
    if getattr(exc, "code", None) != UNKNOWN_TABLE:
        return None
    found = _MISSING_TABLE.search(str(exc))
    return next((name for name in found.groups() if name), None) if found else "a table"


def _table_missing(table: str) -> Response:
    """A missing table is the schema's fault, not the request's: 503 naming it, so the
    operator knows `flowtape migrate` restores it."""
    return JSON(
        {"detail": f"table {table} is missing; `flowtape migrate` recreates it",
         "code": MissingTable.code},
        status_code=503,
    )  # fmt: skip


async def table_missing(request: Request, exc: MissingTable) -> Response:
    return _table_missing(exc.args[0])


async def clickhouse_failed(request: Request, exc: DatabaseError) -> Response:
    """UNKNOWN_TABLE (a table dropped after the API read its columns) as a 503; other
    errors stay internal errors."""
    table = missing_table(exc)
    if table is None:
        raise exc
    return _table_missing(table)


async def sql_refused(request: Request, exc: SqlRejected | SqlFailed) -> Response:
    return JSON({"detail": exc.args[0], "code": exc.code}, status_code=400)


# The `code` of the statuses routes raise as HTTPException.
_HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    422: "invalid_parameter",
    429: "rate_limited",
}


async def http_refused(request: Request, exc: HTTPException) -> Response:
    """An HTTPException in the body every error has: its detail and a code for its status."""
    return JSON(
        {"detail": exc.detail, "code": _HTTP_CODES.get(exc.status_code, "http_error")},
        status_code=exc.status_code,
        headers=exc.headers,
    )


ExceptionHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]

EXCEPTION_HANDLERS: dict[int | type[Exception], ExceptionHandler] = {
    HTTPException: http_refused,
    Unavailable: unavailable,
    OperationalError: clickhouse_unreachable,
    DatabaseError: clickhouse_failed,
    MissingTable: table_missing,
    SqlRejected: sql_refused,
    SqlFailed: sql_refused,
}
