"""The API served by uvicorn on a free loopback port, over the session's real servers.

`seeded` is a database of this module's own holding a small hand-built session: packets on
AAPL and MSFT (live run) with member prints, print inference, hits, alerts and a dark-pool
event, plus a registered replay run.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio
import uvicorn
from fastapi import FastAPI

from api.app import WS_PROTOCOL, create_app
from infra.bus import Bus
from infra.embedded import free_port
from infra.runs import register_run
from infra.settings import Settings
from infra.warehouse import Warehouse
from tests.conftest import Servers, new_warehouse
from tests.integration.api.session import seed_events


@dataclass(frozen=True)
class Api:
    base_url: str
    ws_url: str
    app: FastAPI


def api_settings(tmp: Path, nats_url: str, clickhouse_url: str, database: str) -> Settings:
    return Settings(
        _env_file=None,  # type: ignore[call-arg]
        FLOWTAPE_DATA_DIR=str(tmp),
        NATS_URL=nats_url,
        CLICKHOUSE_URL=clickhouse_url,
        CLICKHOUSE_DATABASE=database,
        API_AUTH="off",  # these tests are about what routes answer, not who may call them
    )


@asynccontextmanager
async def serving(app: FastAPI, *, ws_deflate: bool = False) -> AsyncIterator[Api]:
    """Run `app` with uvicorn in this event loop until the block ends; `ws_deflate` as
    API_WS_DEFLATE tells `flowtape api` (off by default)."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            lifespan="on",
            ws=WS_PROTOCOL,
            ws_per_message_deflate=ws_deflate,
        )
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise AssertionError("uvicorn stopped while starting")
        await asyncio.sleep(0.02)
    try:
        yield Api(f"http://127.0.0.1:{port}", f"ws://127.0.0.1:{port}/v1/ws", app)
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


@pytest.fixture(scope="module")
def seeded(servers: Servers) -> Iterator[Warehouse]:
    warehouse = new_warehouse(servers)
    warehouse.insert_events(seed_events("live"), run_id="live", log_seq=1)
    warehouse.insert_events(seed_events("replay-a"), run_id="replay-a")
    register_run(warehouse, "replay-a", kind="replay", description="test replay",
                 params={"speed": "max"}, status="done")  # fmt: skip
    yield warehouse
    warehouse.command(f"DROP DATABASE IF EXISTS `{warehouse.database}`")
    warehouse.close()


@pytest_asyncio.fixture(scope="module")
async def rest_api(
    servers: Servers, seeded: Warehouse, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Api]:
    """The API over the seeded database, shared by a module's read-only tests."""
    tmp = tmp_path_factory.mktemp("api")
    settings = api_settings(tmp, servers.nats_url, servers.clickhouse_url, seeded.database)
    async with serving(create_app(settings)) as running:
        yield running


@pytest_asyncio.fixture
async def api(servers: Servers, seeded: Warehouse, bus: Bus, tmp_path: Path) -> AsyncIterator[Api]:
    """The API over the seeded database; DERIVED was just recreated empty (`bus`)."""
    settings = api_settings(tmp_path, servers.nats_url, servers.clickhouse_url, seeded.database)
    async with serving(create_app(settings)) as running:
        yield running
