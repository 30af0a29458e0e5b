"""`POST /v1/sql` reads flowtape's tables only: ClickHouse's system tables are refused by
name, and through whatever the analyzer resolves a query to."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from api.app import create_app
from infra.warehouse import Warehouse
from tests.conftest import Servers
from tests.integration.api.conftest import api_settings, serving


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
