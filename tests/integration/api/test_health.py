"""/health with every component up, and with one stopped (private servers for these tests)."""

from __future__ import annotations

import asyncio
import urllib.parse
from pathlib import Path
from typing import Any

import httpx

from api.app import create_app
from infra.embedded import clickhouse_server, nats_server
from tests.conftest import Servers
from tests.integration.api.conftest import Api, api_settings, serving


async def health(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/health")
    return response.status_code, response.json()


async def wait_for_status(client: httpx.AsyncClient, status: int, timeout_s: float = 15.0):  # type: ignore[no-untyped-def]
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        code, body = await health(client)
        if code == status or asyncio.get_running_loop().time() > deadline:
            return code, body
        await asyncio.sleep(0.2)


async def test_health_is_200_when_every_component_is_up(rest_api: Api) -> None:
    async with httpx.AsyncClient(base_url=rest_api.base_url, timeout=30) as client:
        code, body = await health(client)
    assert code == 200 and body["status"] == "ok"
    assert {name: c["up"] for name, c in body["components"].items()} == {
        "nats": True, "clickhouse": True,
    }  # fmt: skip
    assert body["components"]["nats"]["origin"] == "external"
    assert body["tape"]["following"] is True
    assert body["uptime"] >= 0 and set(body["errors"]) == {"count", "last"}


async def test_a_stopped_nats_makes_health_503_and_its_return_makes_it_200(
    servers: Servers, tmp_path: Path
) -> None:
    nats = nats_server(tmp_path / "nats")
    await asyncio.to_thread(nats.start)
    try:
        settings = api_settings(tmp_path, nats.url, servers.clickhouse_url, "api_health")
        async with serving(create_app(settings, migrate_schema=True)) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
                assert (await health(client))[0] == 200
                await asyncio.to_thread(nats.stop)
                code, body = await wait_for_status(client, 503)
                assert code == 503 and body["status"] == "degraded"
                assert body["components"]["nats"]["up"] is False
                assert body["components"]["nats"]["detail"]
                assert body["components"]["clickhouse"]["up"] is True
                # History does not need NATS.
                assert (await client.get("/v1/runs")).status_code == 200

                port = urllib.parse.urlsplit(nats.url).port
                nats = nats_server(tmp_path / "nats", port=port)
                await asyncio.to_thread(nats.start)
                code, body = await wait_for_status(client, 200)
                assert code == 200, body
    finally:
        await asyncio.to_thread(nats.stop)


async def test_a_stopped_clickhouse_makes_health_503_and_history_503(
    servers: Servers, tmp_path: Path
) -> None:
    clickhouse = clickhouse_server(tmp_path / "clickhouse")
    await asyncio.to_thread(clickhouse.start)
    try:
        settings = api_settings(tmp_path, servers.nats_url, clickhouse.url, "flowtape")
        async with serving(create_app(settings, migrate_schema=True)) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
                assert (await health(client))[0] == 200
                assert (await client.get("/v1/packets")).json()["items"] == []
                await asyncio.to_thread(clickhouse.stop)
                code, body = await wait_for_status(client, 503)
                assert code == 503
                assert body["components"]["clickhouse"]["up"] is False
                assert body["components"]["nats"]["up"] is True
                history = await client.get("/v1/packets")
                assert history.status_code == 503 and "ClickHouse" in history.json()["detail"]
                text = (await client.get("/metrics")).text
                assert 'flowtape_up{component="clickhouse"} 0' in text
    finally:
        await asyncio.to_thread(clickhouse.stop)


async def test_with_nats_and_clickhouse_both_stopped_the_api_is_down(
    tmp_path: Path,
) -> None:
    nats = nats_server(tmp_path / "nats")
    clickhouse = clickhouse_server(tmp_path / "clickhouse")
    await asyncio.gather(asyncio.to_thread(nats.start), asyncio.to_thread(clickhouse.start))
    try:
        settings = api_settings(tmp_path, nats.url, clickhouse.url, "flowtape")
        async with serving(create_app(settings, migrate_schema=True)) as api:
            async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as client:
                assert (await health(client))[1]["status"] == "ok"
                await asyncio.to_thread(clickhouse.stop)
                code, body = await wait_for_status(client, 503)
                assert (code, body["status"]) == (503, "degraded")
                await asyncio.to_thread(nats.stop)
                deadline = asyncio.get_running_loop().time() + 15
                while body["status"] != "down" and asyncio.get_running_loop().time() < deadline:
                    await asyncio.sleep(0.2)
                    code, body = await health(client)
                assert (code, body["status"]) == (503, "down")
                assert not any(c["up"] for c in body["components"].values())
                assert body["errors"]["count"] == 2 and body["errors"]["last"].startswith("nats")
    finally:
        await asyncio.gather(asyncio.to_thread(nats.stop), asyncio.to_thread(clickhouse.stop))
