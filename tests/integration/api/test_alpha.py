"""Alpha frames through the API: a synthetic CME session on RAW, the live alpha service's
frames reach a WebSocket subscriber of the `alpha` channel as they are published, and
`/v1/alpha/{root}` serves what the sink stored of them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from websockets.asyncio.client import connect

from api.app import create_app
from api.views import plain
from infra.bus import Bus
from infra.warehouse import Warehouse
from live.alpha.service import AlphaService
from live.sink.service import Sink
from tests.conftest import Servers
from tests.integration.api.conftest import api_settings, serving
from tests.integration.api.test_ws import receive, subscribe
from tests.integration.live.alpha.session import (
    CONFIG,
    LATENESS_NS,
    cme_files,
    engine_frames,
    publish,
)

SECOND = 10**9


async def test_live_frames_reach_the_alpha_channel_and_the_history_route(
    bus: Bus, servers: Servers, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    files = cme_files(tmp_path / "cme").paths
    await publish(bus, files)
    expected = [plain(frame) for frame in engine_frames(files, "live")]
    settings = api_settings(
        tmp_path, servers.nats_url, servers.clickhouse_url, fresh_warehouse.database
    )
    async with serving(create_app(settings)) as api, connect(api.ws_url) as ws:
        await subscribe(ws, channels=["alpha"], symbols=["CL"])
        service = AlphaService(bus, CONFIG, allowed_lateness_ns=LATENESS_NS)
        await service.run(until_idle=True, finish_session=True)
        received: list[dict[str, Any]] = []
        while len(received) < len(expected):
            message = await receive(ws)
            assert message["channel"] == "alpha"
            received += message["events"]
        assert received == expected

        await Sink(bus, fresh_warehouse).run_until_idle()
        async with httpx.AsyncClient(base_url=api.base_url) as http:
            every = (await http.get("/v1/alpha/CL", params={"limit": 5000})).json()
            since, until = expected[-10]["ts_recv"], expected[-3]["ts_recv"]
            window = await http.get("/v1/alpha/CL", params={"since": since, "until": until})
            latest = (await http.get("/v1/alpha/CL", params={"limit": 2})).json()
            unknown = await http.get("/v1/alpha/ES")
            other_run = await http.get("/v1/alpha/CL", params={"run_id": "replay-x"})

    assert every["count"] == len(expected)
    assert [{k: v for k, v in item.items() if k != "log_seq"} for item in every["items"]] == (
        expected[::-1]
    )
    assert all(item["log_seq"] > 0 for item in every["items"])
    assert [item["ts_recv"] for item in window.json()["items"]] == [
        frame["ts_recv"] for frame in expected[-4:-11:-1]
    ]
    assert [item["ts_recv"] for item in latest["items"]] == [
        expected[-1]["ts_recv"], expected[-2]["ts_recv"]
    ]  # fmt: skip
    assert unknown.status_code == 404 and "ES" in unknown.json()["detail"]
    assert other_run.status_code == 404


async def test_a_bad_time_is_a_400_naming_the_parameter(
    servers: Servers, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    settings = api_settings(
        tmp_path, servers.nats_url, servers.clickhouse_url, fresh_warehouse.database
    )
    async with serving(create_app(settings)) as api, httpx.AsyncClient(base_url=api.base_url) as h:
        response = await h.get("/v1/alpha/CL", params={"since": "2025-02-30"})
    assert response.status_code == 400 and "since" in response.json()["detail"]
