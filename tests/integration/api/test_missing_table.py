"""A table missing behind a REST endpoint is a 503 naming it, never a 500."""

from __future__ import annotations

from pathlib import Path

import httpx

from api.app import create_app
from infra.migrate import migrate
from tests.conftest import Servers, scratch_warehouse
from tests.integration.api.conftest import api_settings, serving


async def test_a_dropped_alerts_table_answers_503_naming_it(
    servers: Servers, tmp_path: Path
) -> None:
    with scratch_warehouse(servers) as warehouse:
        warehouse.command("DROP TABLE alerts")
        settings = api_settings(
            tmp_path, servers.nats_url, servers.clickhouse_url, warehouse.database
        )
        keyless = settings.model_copy(update={"api_auth": "off"})  # the test is not about keys
        async with serving(create_app(keyless)) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
                response = await http.get("/v1/alerts")
    assert response.status_code == 503, response.text
    body = response.json()
    assert body["code"] == "missing_table"
    assert "alerts" in body["detail"] and "flowtape migrate" in body["detail"]


async def test_a_table_dropped_while_the_api_runs_answers_503_and_returns_after_migrate(
    servers: Servers, tmp_path: Path
) -> None:
    with scratch_warehouse(servers) as warehouse:
        settings = api_settings(
            tmp_path, servers.nats_url, servers.clickhouse_url, warehouse.database
        )
        keyless = settings.model_copy(update={"api_auth": "off"})  # the test is not about keys
        async with serving(create_app(keyless)) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
                assert (await http.get("/v1/alerts")).status_code == 200
                warehouse.command("DROP TABLE alerts")
                dropped = await http.get("/v1/alerts")
                migrate(warehouse)
                restored = await http.get("/v1/alerts")
    assert dropped.status_code == 503, dropped.text
    assert dropped.json()["code"] == "missing_table" and "alerts" in dropped.json()["detail"]
    assert restored.status_code == 200, restored.text
