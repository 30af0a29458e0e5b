"""What handlers receive through `Depends`: the app's services, live tape, store and limits.

Each reads what `create_app` and its lifespan put on `app.state`; `HTTPConnection` serves
both HTTP and WebSocket routes.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from starlette.requests import HTTPConnection

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


ServicesDep = Annotated[Services, Depends(get_services)]
TapeDep = Annotated[Tape, Depends(get_tape)]
StoreDep = Annotated[Store, Depends(get_store)]
SqlLimitsDep = Annotated[SqlLimits, Depends(get_sql_limits)]
RequestCounterDep = Annotated[RequestCounter, Depends(get_request_counter)]
