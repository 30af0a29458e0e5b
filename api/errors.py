"""How errors reach HTTP clients: a status code and a body of `detail` and `code`."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from clickhouse_connect.driver.exceptions import OperationalError
from fastapi import Request
from fastapi.responses import Response

from api.responses import JSON
from api.services import Unavailable
from infra.readonly_sql import SqlFailed, SqlRejected


async def unavailable(request: Request, exc: Unavailable) -> Response:
    return JSON({"detail": str(exc), "code": exc.code}, status_code=503)


async def clickhouse_unreachable(request: Request, exc: OperationalError) -> Response:
    detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return JSON(
        {"detail": f"ClickHouse unreachable: {detail}", "code": "unavailable"}, status_code=503
    )


async def sql_refused(request: Request, exc: SqlRejected | SqlFailed) -> Response:
    return JSON({"detail": exc.args[0], "code": exc.code}, status_code=400)


ExceptionHandler = Callable[[Request, Any], Coroutine[Any, Any, Response]]

EXCEPTION_HANDLERS: dict[int | type[Exception], ExceptionHandler] = {
    Unavailable: unavailable,
    OperationalError: clickhouse_unreachable,
    SqlRejected: sql_refused,
    SqlFailed: sql_refused,
}
