"""Real servers for the tests: NATS with JetStream, Valkey (Redis protocol) and ClickHouse.

They are started once per test session on free loopback ports, with data in a temporary
folder, whatever the environment says (tests never touch servers that happen to be running).
Each test session gets its own ClickHouse database; `fresh_warehouse` gives a test its own.
"""

from __future__ import annotations

import signal
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
import pytest_asyncio

from infra.bus import Bus
from infra.embedded import EmbeddedServer, clickhouse_server, nats_server, redis_server
from infra.migrate import migrate
from infra.warehouse import Warehouse
from tests.kit.streams import reset_streams

# Tests stop `flowtape up` and other commands with Ctrl-C (SIGINT). A shell that starts the
# test run in the background makes it ignore SIGINT, and an ignored signal stays ignored in
# every process started from it: the commands would not hear Ctrl-C. A handler is not
# inherited across exec, so with one here they start with SIGINT's default.
if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
    signal.signal(signal.SIGINT, signal.default_int_handler)

# Test data is found one way: through the fixture below, which fails (never skips) without it.
SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "databento"


@dataclass(frozen=True)
class Servers:
    nats: EmbeddedServer
    redis: EmbeddedServer
    clickhouse: EmbeddedServer

    @property
    def nats_url(self) -> str:
        return self.nats.url

    @property
    def redis_url(self) -> str:
        return self.redis.url

    @property
    def clickhouse_url(self) -> str:
        return self.clickhouse.url

    def environment(self) -> dict[str, str]:
        """Variables that point a flowtape process at these servers."""
        return {
            "NATS_URL": self.nats_url,
            "REDIS_URL": self.redis_url,
            "CLICKHOUSE_URL": self.clickhouse_url,
        }


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real Databento sample files, in ../shared/data/databento beside the repository."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(f"expected the Databento samples at {SHARED_DATA}")
    return SHARED_DATA


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("servers")
    started: list[EmbeddedServer] = []
    try:
        for factory, name in ((nats_server, "nats"), (redis_server, "redis"),
                              (clickhouse_server, "clickhouse")):  # fmt: skip
            server = factory(root / name)
            server.start()
            started.append(server)
        yield Servers(*started)
    finally:
        for server in reversed(started):
            server.stop()


def new_warehouse(servers: Servers) -> Warehouse:
    warehouse = Warehouse.connect(servers.clickhouse_url, f"test_{uuid.uuid4().hex[:12]}")
    migrate(warehouse)
    return warehouse


@pytest.fixture(scope="session")
def warehouse(servers: Servers) -> Iterator[Warehouse]:
    """A migrated database shared by the whole test session."""
    wh = new_warehouse(servers)
    yield wh
    wh.close()


@contextmanager
def scratch_warehouse(servers: Servers) -> Iterator[Warehouse]:
    """A migrated database of its own, dropped afterwards."""
    wh = new_warehouse(servers)
    try:
        yield wh
    finally:
        wh.command(f"DROP DATABASE IF EXISTS `{wh.database}`")
        wh.close()


@pytest.fixture
def fresh_warehouse(servers: Servers) -> Iterator[Warehouse]:
    """A migrated database of this test's own, dropped afterwards."""
    with scratch_warehouse(servers) as wh:
        yield wh


@pytest_asyncio.fixture
async def bus(servers: Servers) -> AsyncIterator[Bus]:
    """A JetStream connection with empty RAW and DERIVED streams."""
    connection = await Bus.connect(servers.nats_url)
    await reset_streams(connection)
    yield connection
    await connection.close()
