"""What handlers receive through `Depends`: the app's services, live tape, store and limits,
and the scope checks every non-public route carries (`READ`, `REPLAY`, `SQL`, `METRICS`).

Each reads what `create_app` and its lifespan put on `app.state`; `HTTPConnection` serves
both HTTP and WebSocket routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from api.auth import Authenticator
from api.metrics import RequestCounter
from api.services import Services
from api.store import Store
from api.tape import Tape
from infra.readonly_sql import SqlLimits


def get_services(connection: HTTPConnection) -> Services:
    services: Services = connection.app.state.services
    return services


def get_tape(connection: HTTPConnection) -> Tape:
    tape: Tape = connection.app.state.tape
    return tape


def get_store(connection: HTTPConnection) -> Store:
    """The Store of the current Warehouse, or Unavailable (blocking: FastAPI runs a sync
    dependency in a worker thread)."""
    warehouse = get_services(connection).warehouse()
    stores: dict[int, Store] = connection.app.state.stores
    if id(warehouse) not in stores:
        stores.clear()
        stores[id(warehouse)] = Store(warehouse)
    return stores[id(warehouse)]


def get_sql_limits(connection: HTTPConnection) -> SqlLimits:
    limits: SqlLimits = connection.app.state.sql_limits
    return limits


def get_request_counter(connection: HTTPConnection) -> RequestCounter:
    requests: RequestCounter = connection.app.state.requests
    return requests


def get_auth(connection: HTTPConnection) -> Authenticator:
    auth: Authenticator = connection.app.state.auth
    return auth


# Declared as security schemes so that /docs offers both ways of sending a key.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_api_key = APIKeyHeader(name="X-API-Key", auto_error=False, description="The API key")
BearerKey = Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
HeaderKey = Annotated[str | None, Depends(_api_key)]


class Scope:
    """A route's access check: a valid key holding `scope`, within its rate (401/403/429)."""

    def __init__(self, scope: str) -> None:
        self.scope = scope

    def __call__(self, request: Request, bearer: BearerKey, header: HeaderKey) -> None:
        # Sync: FastAPI runs it in a worker thread, off the loop, key file read and KDF alike.
        auth = get_auth(request)
        if self.public(auth):
            return
        auth.authorize(request, self.scope, bearer.credentials if bearer else header)

    def public(self, auth: Authenticator) -> bool:
        return False


class MetricsScope(Scope):
    """`/metrics`: public unless METRICS_PUBLIC=false closes it to admin keys."""

    def public(self, auth: Authenticator) -> bool:
        return auth.metrics_public


READ = Depends(Scope("read"))
REPLAY = Depends(Scope("replay"))
SQL = Depends(Scope("sql"))
METRICS = Depends(MetricsScope("admin"))

ServicesDep = Annotated[Services, Depends(get_services)]
TapeDep = Annotated[Tape, Depends(get_tape)]
StoreDep = Annotated[Store, Depends(get_store)]
SqlLimitsDep = Annotated[SqlLimits, Depends(get_sql_limits)]
RequestCounterDep = Annotated[RequestCounter, Depends(get_request_counter)]
