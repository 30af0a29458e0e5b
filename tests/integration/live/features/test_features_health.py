"""The features service's /health: down before its loop runs and after it stops, ok while it
consumes, degraded while NATS is away, ok again when NATS returns."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from compute.features import FeaturesConfig
from infra.bus import Bus
from infra.embedded import nats_server
from live.features.http import serve
from live.features.service import FeaturesService
from tests.integration.ingest.crypto.test_marketdata_service import wait_for
from tests.integration.live.features.test_features_service import (
    publish_in_time_slices,
    recorded_events,
)


async def health(http: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
    async with http.get("/health") as response:
        return response.status, await response.json()


async def test_features_health_follows_its_loop_and_its_log(tmp_path: Path) -> None:
    server = nats_server(tmp_path / "nats")
    await asyncio.to_thread(server.start)
    port = int(server.url.rsplit(":", 1)[1])
    bus = await Bus.connect(server.url, timeout_s=1.0)
    await bus.ensure_streams()
    service = FeaturesService(bus, FeaturesConfig())
    runner = await serve(service, "127.0.0.1", 0)
    events = recorded_events()[:300]
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{runner.addresses[0][1]}") as http:
            status, body = await health(http)
            assert (status, body["status"], body["lastCycle"]) == (503, "down", None)

            running = asyncio.create_task(service.run())
            await publish_in_time_slices(bus, events)
            await wait_for(lambda: service.counts["events"] == len(events))
            status, body = await health(http)
            assert (status, body["status"]) == (200, "ok")
            assert body["lastCycle"] is not None and body["position"] > 0

            await asyncio.to_thread(server.stop)
            await wait_for(lambda: not bus.nc.is_connected)
            status, body = await health(http)
            assert (status, body["status"]) == (503, "degraded")

            restarted = nats_server(tmp_path / "nats", port=port)
            await asyncio.to_thread(restarted.start)
            server = restarted
            await wait_for(lambda: bus.nc.is_connected)
            status, body = await health(http)
            assert (status, body["status"]) == (200, "ok")

            service.stop()
            await running
            status, body = await health(http)
            assert (status, body["status"]) == (503, "down")
    finally:
        await runner.cleanup()
        await bus.close()
        await asyncio.to_thread(server.stop)
