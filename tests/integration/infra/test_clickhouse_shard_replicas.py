"""The production layout of shards with replicas (ops/deploy/clickhouse/, compose profile
`sharded`), checked by the embedded server as far as it goes without Keeper: it loads the
cluster and macros files, knows the profile's settings, and parses every migration
statement as a replica runs it."""

# The repository's own config files, and a stand-in password the server only reads:
# ruff: noqa: S314, S106

from __future__ import annotations

import os
import re
import shutil
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from infra.embedded import clickhouse_server
from infra.migrate import available_migrations, on_shard, sharded_tables
from infra.sharding import distributed_ddl
from infra.warehouse import Warehouse
from tests.conftest import Servers

DEPLOY = Path(__file__).resolve().parents[3] / "ops" / "deploy" / "clickhouse"
PLACE = {"CLICKHOUSE_SHARD": "02", "CLICKHOUSE_REPLICA": "clickhouse-2b"}


@pytest.fixture(scope="module")
def production_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Warehouse]:
    """An embedded server with the layout's cluster.xml and macros.xml in its config.d, as
    the second replica of the second shard."""
    folder = tmp_path_factory.mktemp("production-layout")
    (folder / "config.d").mkdir()
    for name in ("cluster.xml", "macros.xml"):
        shutil.copy(DEPLOY / name, folder / "config.d" / name)
    saved = {name: os.environ.get(name) for name in (*PLACE, "CLICKHOUSE_PASSWORD")}
    os.environ.update(PLACE, CLICKHOUSE_PASSWORD="not-a-secret")
    server = clickhouse_server(folder)
    try:
        server.start()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    try:
        with Warehouse.connect(server.url, "layout") as warehouse:
            yield warehouse
    finally:
        server.stop()


def test_the_server_reads_two_shards_of_two_replicas_and_its_place_from_the_env(
    production_server: Warehouse,
) -> None:
    assert dict(production_server.rows("SELECT macro, substitution FROM system.macros")) == {
        "shard": "02", "replica": "clickhouse-2b",
    }  # fmt: skip
    rows = production_server.rows(
        "SELECT shard_num, replica_num, host_name, port FROM system.clusters "
        "WHERE cluster = 'flowtape' ORDER BY 1, 2"
    )
    assert rows == [
        (1, 1, "clickhouse-1a", 9000), (1, 2, "clickhouse-1b", 9000),
        (2, 1, "clickhouse-2a", 9000), (2, 2, "clickhouse-2b", 9000),
    ]  # fmt: skip


def test_the_profile_names_only_settings_the_server_knows(production_server: Warehouse) -> None:
    profile = ET.parse(DEPLOY / "profile.xml").getroot().find("profiles/default")
    assert profile is not None
    wanted = {child.tag: (child.text or "") for child in profile}
    known = dict(
        production_server.rows(
            "SELECT name, type FROM system.settings WHERE name IN {n:Array(String)}",
            {"n": list(wanted)},
        )
    )
    assert set(known) == set(wanted) >= {"insert_quorum", "distributed_product_mode"}


def test_keeper_is_a_three_node_ensemble_whose_nodes_the_servers_name() -> None:
    keeper = ET.parse(DEPLOY / "keeper.xml").getroot()
    raft = [s.findtext("hostname") for s in keeper.iterfind("keeper_server/*/server")]
    cluster = ET.parse(DEPLOY / "cluster.xml").getroot()
    nodes = [n.findtext("host") for n in cluster.iterfind("zookeeper/node")]
    assert raft == nodes == ["keeper-1", "keeper-2", "keeper-3"]
    assert keeper.find("keeper_server/server_id").get("from_env") == "KEEPER_ID"  # type: ignore[union-attr]


def test_every_migration_statement_as_a_replica_runs_it_parses(
    production_server: Warehouse,
) -> None:
    sharded = sharded_tables(available_migrations())
    creates = 0
    for migration in available_migrations():
        for statement in migration.statements():
            replica = on_shard(statement, sharded, replicated=True)
            production_server.scalar("SELECT formatQuery({q:String})", {"q": replica})
            if re.match(r"CREATE\s+TABLE", statement, re.IGNORECASE):
                creates += 1
                assert re.search(
                    r"ENGINE = Replicated(Replacing|Summing|Aggregating)?MergeTree\("
                    r"'/clickhouse/tables/\{shard\}/\{database\}/\{table\}', '\{replica\}'",
                    replica,
                ), replica[:200]
            if re.match(r"DROP\s+TABLE", statement, re.IGNORECASE):
                assert replica.endswith(" SYNC")
    assert creates >= len(sharded)
    for table in sorted(sharded):
        production_server.scalar(
            "SELECT formatQuery({q:String})", {"q": distributed_ddl(table, "flowtape", "run_id")}
        )


def test_a_url_names_each_shard_by_its_replicas(servers: Servers) -> None:
    one, two = servers.clickhouse_url, servers.clickhouse_url.replace("127.0.0.1", "localhost")
    with Warehouse.connect(f"{one}|{two},{two}|{one}", "replicas") as warehouse:
        assert warehouse.replica_urls == ((one, two), (two, one))
        assert warehouse.shard_urls == (one, two)
        assert warehouse.replicated and warehouse.sharded
        warehouse.command("DROP DATABASE IF EXISTS replicas")
    with Warehouse.connect(f"{one}|{two}", "replicas") as warehouse:
        assert warehouse.sharded and warehouse.shard_urls == (one,)
        warehouse.command("DROP DATABASE IF EXISTS replicas")
    with Warehouse.connect(one, "replicas") as warehouse:
        assert not warehouse.sharded and warehouse.replica_urls == ()
        warehouse.command("DROP DATABASE IF EXISTS replicas")


def test_the_compose_profile_runs_each_replica_the_cluster_names_in_its_place() -> None:
    compose = yaml.safe_load((DEPLOY.parents[2] / "docker-compose.yml").read_text())
    placed = {
        name: (spec["environment"]["CLICKHOUSE_SHARD"], spec["environment"]["CLICKHOUSE_REPLICA"])
        for name, spec in compose["services"].items()
        if "sharded" in spec.get("profiles", []) and "CLICKHOUSE_SHARD" in spec["environment"]
    }
    cluster = ET.parse(DEPLOY / "cluster.xml").getroot()
    named = {
        str(replica.findtext("host")): (f"{number:02d}", str(replica.findtext("host")))
        for number, shard in enumerate(cluster.iterfind("remote_servers/flowtape/shard"), 1)
        for replica in shard.iterfind("replica")
    }
    assert placed == named and len(placed) == 4
    keepers = [n for n, s in compose["services"].items() if "KEEPER_ID" in s.get("environment", {})]
    assert keepers == ["keeper-1", "keeper-2", "keeper-3"]
