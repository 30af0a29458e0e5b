"""`POST /v1/sql` reads flowtape's tables only: ClickHouse's system tables are refused by
name, and through whatever the analyzer resolves a query to; raw CME tables only to an admin
key (the data licence keeps them inside), while derived frames stay readable."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import pytest_asyncio

from api.app import create_app
from infra.keys import KeyStore
from infra.warehouse import Warehouse
from tests.conftest import Servers
from tests.integration.api.conftest import Api, api_settings, serving
from tests.integration.cli.test_sql_command import flowtape_sql


@pytest.fixture
async def http(servers: Servers, seeded: Warehouse, tmp_path: Path):  # type: ignore[no-untyped-def]
    settings = api_settings(tmp_path, servers.nats_url, servers.clickhouse_url, seeded.database)
    keyless = settings.model_copy(update={"api_auth": "off"})  # this module tests SQL, not keys
    async with serving(create_app(keyless)) as api:
        async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
            yield client


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT name, auth_type FROM system.users",
        "SELECT * FROM `system`.`grants`",
        "SELECT * FROM INFORMATION_SCHEMA.TABLES",
        "SELECT * FROM merge(REGEXP('^sys'), '^users$')",
        "SELECT * FROM alerts WHERE alert_id IN "
        "(SELECT * FROM view(SELECT name FROM system.users))",
        "SHOW USERS",
        "SHOW DATABASES",
    ],
)
async def test_system_tables_are_not_readable(http: httpx.AsyncClient, statement: str) -> None:
    response = await http.post("/v1/sql", json={"sql": statement})
    assert response.status_code == 400, response.text
    assert response.json()["code"] == "sql_rejected"


async def test_flowtape_tables_and_row_generators_stay_readable(http: httpx.AsyncClient) -> None:
    tables = await http.post("/v1/sql", json={"sql": "SHOW TABLES"})
    assert tables.status_code == 200, tables.text
    assert ["alerts"] in tables.json()["rows"]
    numbers = await http.post("/v1/sql", json={"sql": "SELECT sum(number) FROM numbers(4)"})
    assert numbers.json()["rows"] == [[6]]
    one = await http.post("/v1/sql", json={"sql": "SELECT count() FROM alerts"})
    assert one.status_code == 200, one.text


RAW_CME_QUERIES = [
    "SELECT symbol, price FROM cme_trades",
    "SELECT count() FROM (SELECT * FROM cme_trades WHERE price > 0)",
    "WITH t AS (SELECT price FROM cme_trades) SELECT sum(price) FROM t",
    "SELECT a.root FROM alpha_frames AS a JOIN cme_trades AS raw ON raw.symbol = a.front_symbol",
    "SELECT * FROM alpha_frames WHERE front_symbol IN (SELECT symbol FROM `cme_trades`)",
    "SELECT * FROM view(SELECT price FROM cme_trades)",
    "SELECT * FROM merge(currentDatabase(), '^cme_trades$')",
    "SELECT * FROM cme_quotes",
    "SELECT * FROM cme_instruments",
    "SELECT * FROM cme_statistics",
    "SELECT * FROM mbp10_events",
    "SELECT * FROM mbo_events",
]


@pytest.fixture(scope="module")
def licensed(seeded: Warehouse) -> Warehouse:
    """The seeded database with one raw CME trade and one derived alpha frame."""
    seeded.command(
        "INSERT INTO cme_trades (run_id, symbol, price, size) VALUES ('live', 'CLZ3', 75, 2)"
    )
    seeded.command("INSERT INTO alpha_frames (run_id, frame_id, root) VALUES ('live', 'f', 'CL')")
    return seeded


@pytest.fixture(scope="module")
def key_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("sql-keys")


@pytest.fixture(scope="module")
def sql_keys(key_dir: Path) -> dict[str, str]:
    store = KeyStore(key_dir)
    return {
        scope: store.create([scope], name=scope, rate="1000/s")[1] for scope in ("sql", "admin")
    }


@pytest_asyncio.fixture(scope="module")
async def keyed(servers: Servers, licensed: Warehouse, key_dir: Path) -> AsyncIterator[Api]:
    settings = api_settings(key_dir, servers.nats_url, servers.clickhouse_url, licensed.database)
    async with serving(create_app(settings.model_copy(update={"api_auth": "keys"}))) as api:
        yield api


async def post_sql(api: Api, key: str, statement: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
        return await client.post("/v1/sql", json={"sql": statement}, headers={"X-API-Key": key})


@pytest.mark.parametrize("statement", RAW_CME_QUERIES)
async def test_a_sql_key_is_refused_raw_cme_tables_in_one_line_with_a_code(
    keyed: Api, sql_keys: dict[str, str], statement: str
) -> None:
    response = await post_sql(keyed, sql_keys["sql"], statement)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] in {"raw_data_licensed", "sql_rejected"}, body
    assert body["detail"] and "\n" not in body["detail"]


@pytest.mark.parametrize(
    "statement", [q for q in RAW_CME_QUERIES if "view(" not in q and "merge(" not in q]
)
async def test_a_raw_table_read_by_a_sql_key_is_refused_as_licensed_data(
    keyed: Api, sql_keys: dict[str, str], statement: str
) -> None:
    body = (await post_sql(keyed, sql_keys["sql"], statement)).json()
    assert body["code"] == "raw_data_licensed", body
    assert "raw CME data" in body["detail"] and "admin" in body["detail"]


async def test_an_admin_key_reads_raw_cme_tables(keyed: Api, sql_keys: dict[str, str]) -> None:
    for statement in ("SELECT symbol, price, size FROM cme_trades", RAW_CME_QUERIES[3]):
        response = await post_sql(keyed, sql_keys["admin"], statement)
        assert response.status_code == 200, response.text
    trades = await post_sql(keyed, sql_keys["admin"], "SELECT symbol, price, size FROM cme_trades")
    assert trades.json()["rows"] == [["CLZ3", 75, 2]]


async def test_derived_alpha_frames_stay_readable_to_a_sql_key(
    keyed: Api, sql_keys: dict[str, str]
) -> None:
    response = await post_sql(keyed, sql_keys["sql"], "SELECT root FROM alpha_frames")
    assert response.status_code == 200, response.text
    assert response.json()["rows"] == [["CL"]]
    schema = await post_sql(keyed, sql_keys["sql"], "DESCRIBE cme_trades")
    assert schema.status_code == 200, schema.text  # the columns, never a row


def test_the_operators_cli_reads_raw_cme_tables(
    servers: Servers, licensed: Warehouse, tmp_path: Path
) -> None:
    result = flowtape_sql(
        servers, licensed.database, tmp_path, "--format", "csv",
        "SELECT symbol, price FROM cme_trades",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["symbol,price", "CLZ3,75"]


async def test_a_caller_without_a_key_is_refused_before_the_statement_is_read(
    keyed: Api,
) -> None:
    async with httpx.AsyncClient(base_url=keyed.base_url, timeout=30) as client:
        response = await client.post("/v1/sql", json={"sql": "DROP TABLE alerts"})
    assert response.status_code == 401, response.text
