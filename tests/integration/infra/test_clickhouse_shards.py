"""A two-shard ClickHouse answers as one server does: the same synthetic session replayed
into both gives the same answer to every named query and REST history route, and the sink
stores a published session once per shard, resuming per shard."""

# SQL assembled from table names of this module:
# ruff: noqa: S608

from __future__ import annotations

import os
import subprocess
import sys
import zlib
from collections.abc import AsyncIterator, Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

import compute.flow as flow
from analytics.queries import list_queries, run_query
from api.app import create_app
from infra.bus import Bus
from infra.chcluster import ClickHouseCluster, clickhouse_cluster
from infra.migrate import migrate
from infra.readonly_sql import RawDataRefused, SqlLimits, run_read_only
from infra.runs import delete_run, list_runs, register_run
from infra.settings import Settings
from infra.sharding import LOCAL_SUFFIX
from infra.stack import Stack
from infra.warehouse import EVENT_TABLES, Warehouse
from live.sink.positions import POSITIONS_TABLE, stored_checkpoint
from live.sink.retention import apply_retention
from live.sink.service import Sink
from replay.driver import replay_events
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from tests.conftest import Servers, scratch_warehouse
from tests.integration.api.conftest import api_settings, serving
from tests.integration.infra.test_nats_cluster_stack import _alive
from tests.integration.live.session import (
    assert_views_match_base_tables,
    build_session,
    digests,
    publish,
    store_reference,
)
from tests.integration.live.sessions import session_events
from tests.integration.live.test_sink import SMALL_BATCHES

pytestmark = pytest.mark.slow
RUN = "shards"
SHARDS = 2


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClickHouseCluster]:
    started = clickhouse_cluster(tmp_path_factory.mktemp("clickhouse-shards"), SHARDS)
    started.start()
    try:
        yield started
    finally:
        started.stop()


def sharded_warehouse(cluster: ClickHouseCluster, database: str) -> Warehouse:
    warehouse = Warehouse.connect(cluster.url, database)
    migrate(warehouse)
    return warehouse


@pytest.fixture(scope="module")
def replayed(servers: Servers, cluster: ClickHouseCluster) -> Iterator[tuple[Warehouse, Warehouse]]:
    """One synthetic session replayed into one server and into the two shards."""
    events = session_events(31, minutes=2, underlyings=6)
    with scratch_warehouse(servers) as single:
        sharded = sharded_warehouse(cluster, "replayed")
        try:
            for warehouse in (single, sharded):
                replay_events(events, run_id=RUN, config=flow.EngineConfig(), warehouse=warehouse)
            yield single, sharded
        finally:
            sharded.close()


def shard_rows(cluster: ClickHouseCluster, database: str, table: str) -> list[int]:
    counts = []
    for shard in cluster.shards:
        with Warehouse.connect(shard.url, database) as one:
            counts.append(int(one.scalar(f"SELECT count() FROM `{table}{LOCAL_SUFFIX}`")))
    return counts


def test_rows_are_spread_by_underlying_and_packet_and_stored_once(
    replayed: tuple[Warehouse, Warehouse], cluster: ClickHouseCluster
) -> None:
    single, sharded = replayed
    assert digests(sharded) == digests(single)
    for table in ("option_prints", "print_inference", "flow_packets", "packet_prints"):
        counts = shard_rows(cluster, sharded.database, table)
        assert all(counts) and sum(counts) == single.scalar(f"SELECT count() FROM {table}")
    # each underlying's prints on the shard zlib's CRC32 picks, as the Distributed table would
    for index, shard in enumerate(cluster.shards):
        with Warehouse.connect(shard.url, sharded.database) as one:
            held = {
                str(r[0]) for r in one.rows("SELECT DISTINCT underlying FROM option_prints_local")
            }
            assert held and all(zlib.crc32(u.encode()) % SHARDS == index for u in held)
            # a packet's member prints live with its row
            strays = one.scalar(
                "SELECT count() FROM packet_prints_local WHERE packet_id NOT IN "
                "(SELECT packet_id FROM flow_packets_local)"
            )
            assert strays == 0
    assert_views_match_base_tables(sharded)


def _query_calls(single: Warehouse) -> list[tuple[str, dict[str, Any]]]:
    """Every named query with the run's parameters: once with its defaults, and once per
    underlying, contract or packet it takes."""
    underlyings = [str(r[0]) for r in single.rows(
        "SELECT DISTINCT underlying FROM option_prints WHERE run_id = {r:String} ORDER BY 1",
        {"r": RUN})]  # fmt: skip
    symbol = single.scalar(
        "SELECT symbol FROM option_prints WHERE run_id = {r:String} "
        "GROUP BY symbol ORDER BY count() DESC, symbol LIMIT 1",
        {"r": RUN},
    )
    packets = [str(r[0]) for r in single.rows(
        "SELECT packet_id FROM flow_packets WHERE run_id = {r:String} "
        "ORDER BY premium_cents DESC, packet_id LIMIT 3", {"r": RUN})]  # fmt: skip
    calls: list[tuple[str, dict[str, Any]]] = []
    for query in list_queries():
        base: dict[str, Any] = {"run_id": RUN}
        if "symbol" in query.params:
            base["symbol"] = symbol
        if "packet_id" in query.params:
            calls += [(query.name, base | {"packet_id": p}) for p in packets]
            continue
        if "underlying" not in query.defaults and "underlying" in query.params:
            calls += [(query.name, base | {"underlying": u}) for u in underlyings]
            continue
        calls.append((query.name, base))
        if "underlying" in query.params:
            calls += [(query.name, base | {"underlying": u}) for u in underlyings[:2]]
    return calls


def test_every_named_query_answers_as_on_one_server(
    replayed: tuple[Warehouse, Warehouse],
) -> None:
    single, sharded = replayed
    calls = _query_calls(single)
    assert {name for name, _ in calls} == {q.name for q in list_queries()}
    answered: set[str] = set()
    for name, params in calls:
        want = run_query(single, name, params)
        if want[1]:
            answered.add(name)
        assert run_query(sharded, name, params) == want, (name, params)
    assert answered == {q.name for q in list_queries()}  # each query has rows to compare


def test_raw_cme_tables_stay_licensed_through_a_shards_local_tables(
    replayed: tuple[Warehouse, Warehouse],
) -> None:
    _, sharded = replayed
    for table in ("cme_trades", "cme_trades_local", "mbo_events_local"):
        with pytest.raises(RawDataRefused, match="raw CME data"):
            run_read_only(sharded, f"SELECT count() FROM {table}", SqlLimits(), raw_cme=False)
    assert run_read_only(sharded, "SELECT count() FROM option_prints_local", SqlLimits())


def test_retention_sets_and_removes_a_ttl_on_each_shards_local_table(
    replayed: tuple[Warehouse, Warehouse], cluster: ClickHouseCluster
) -> None:
    _, sharded = replayed  # cme_statistics is empty in an options session: nothing expires

    def ttls() -> list[str]:
        """Each shard's TTL clause of cme_statistics_local ('' without one)."""
        found = []
        for shard in cluster.shards:
            with Warehouse.connect(shard.url, sharded.database) as one:
                engine = str(one.scalar(
                    "SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                    "AND name = 'cme_statistics_local'"))  # fmt: skip
            found.append(engine.partition(" TTL ")[2].split(" SETTINGS")[0])
        return found

    assert apply_retention(sharded, {"cme_statistics": 30}) == {
        "cme_statistics": "rows older than 30 days by ts_recv"
    }
    assert ttls() == ["toDateTime(ts_recv) + toIntervalDay(30)"] * SHARDS
    apply_retention(sharded, {"cme_statistics": 0})
    assert ttls() == [""] * SHARDS


@pytest_asyncio.fixture
async def two_apis(
    replayed: tuple[Warehouse, Warehouse], servers: Servers, cluster: ClickHouseCluster,
    tmp_path: Path,
) -> AsyncIterator[tuple[httpx.AsyncClient, httpx.AsyncClient]]:  # fmt: skip
    single, sharded = replayed
    async with AsyncExitStack() as stack:
        clients = []
        for name, url, database in (
            ("single", servers.clickhouse_url, single.database),
            ("sharded", cluster.url, sharded.database),
        ):
            settings = api_settings(tmp_path / name, servers.nats_url, url, database)
            api = await stack.enter_async_context(serving(create_app(settings)))
            client = httpx.AsyncClient(base_url=api.base_url, timeout=60)
            clients.append(await stack.enter_async_context(client))
        yield clients[0], clients[1]


async def test_rest_history_answers_as_on_one_server(
    replayed: tuple[Warehouse, Warehouse],
    two_apis: tuple[httpx.AsyncClient, httpx.AsyncClient],
) -> None:
    single, _ = replayed
    one, two = two_apis
    packets = (await one.get("/v1/packets", params={"run_id": RUN, "limit": 5000})).json()
    assert packets["count"] > 100
    underlying = packets["items"][0]["underlying"]
    paths = [
        ("/v1/packets", {"run_id": RUN, "limit": 5000}),
        ("/v1/packets", {"run_id": RUN, "underlying": underlying, "kind": "sweep"}),
        ("/v1/alerts", {"run_id": RUN, "limit": 5000}),
        ("/v1/hits", {"run_id": RUN, "limit": 5000}),
        ("/v1/darkpool", {"run_id": RUN, "limit": 5000}),
        ("/v1/runs", {}),
    ]
    paths += [(f"/v1/packets/{p['packet_id']}", {"run_id": RUN}) for p in packets["items"][:5]]
    symbol = single.scalar(
        "SELECT symbol FROM option_prints WHERE run_id = {r:String} LIMIT 1", {"r": RUN}
    )
    paths += [(f"/v1/candles/{key}", {"run_id": RUN}) for key in (symbol, underlying)]
    for path, params in paths:
        want, got = await one.get(path, params=params), await two.get(path, params=params)
        assert want.status_code == 200, (path, want.text[:300])
        assert got.status_code == 200 and got.json() == want.json(), path


async def test_the_sink_stores_a_session_once_per_shard_and_resumes_per_shard(
    bus: Bus, cluster: ClickHouseCluster, servers: Servers
) -> None:
    session = build_session(prints=600)
    await publish(bus, session)
    with scratch_warehouse(servers) as reference:
        store_reference(reference, session)
        sharded = sharded_warehouse(cluster, "sunk")
        try:
            await Sink(bus, sharded, config=SMALL_BATCHES).run_until_idle()
            assert digests(sharded) == digests(reference)
            assert_views_match_base_tables(sharded)
            last = await bus.last_sequence(RAW_STREAM)
            shards = sharded.connect_shards()
            assert [stored_checkpoint(s, RAW_STREAM) for s in shards] == [last] * SHARDS
            # A crash after the first shard recorded its position and before the second did:
            # the second resumes from the start and stores nothing twice; the first skips all.
            shards[1].command(f"TRUNCATE TABLE {POSITIONS_TABLE}")
            again = await Sink(bus, sharded, config=SMALL_BATCHES).run_until_idle()
            assert digests(sharded) == digests(reference)
            assert_views_match_base_tables(sharded)
            for stream in (RAW_STREAM, DERIVED_STREAM):
                assert again.streams[stream].messages > 0
                assert again.streams[stream].rows_total == 0
                assert again.streams[stream].skipped_rows > 0
            assert [stored_checkpoint(s, RAW_STREAM) for s in shards] == [last] * SHARDS
            for table in EVENT_TABLES:
                counts = shard_rows(cluster, sharded.database, table)
                assert sum(counts) == digests(reference, (table,))[table][0]
            # deleting the run drops its partitions on every shard, and its row in `runs`
            register_run(sharded, "live", kind="live", description="", params={}, status="live")
            assert [run["run_id"] for run in list_runs(sharded)] == ["live"]
            assert delete_run(sharded, "live") > delete_run(reference, "live") > 0
            assert list_runs(sharded) == []
            for table in ("option_prints", "flow_packets", "packet_prints", "quarantine"):
                assert shard_rows(cluster, sharded.database, table) == [0] * SHARDS
            for shard in shards:
                shard.close()
        finally:
            sharded.close()


def test_a_stack_of_two_shards_hands_its_services_every_shard(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, FLOWTAPE_DATA_DIR=str(tmp_path), CLICKHOUSE_URL="")
    with Stack(settings, needs=("clickhouse",), clickhouse_shards=SHARDS) as stack:
        handed = stack.environment()
        urls = handed["CLICKHOUSE_URL"].split(",")
        assert len(urls) == SHARDS == len(stack.owned)
        env = {**os.environ, **handed, "CLICKHOUSE_DATABASE": "stacked"}
        migrated = subprocess.run(
            [sys.executable, "-m", "cli.main", "migrate"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert migrated.returncode == 0, migrated.stderr[-2000:]
        for url in urls:
            with Warehouse.connect(url, "stacked") as shard:
                engines = dict(shard.rows("SELECT name, engine FROM system.tables"))
                assert engines["option_prints"] == "Distributed"
                assert engines["option_prints_local"] == "MergeTree"
                assert engines["sink_positions"] == "ReplacingMergeTree"
        pids = [server.pid for server in stack.owned]
    assert not any(_alive(pid) for pid in pids if pid is not None)
