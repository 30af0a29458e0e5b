"""An ingest service's /health: ok while it publishes, degraded while the log refuses its
messages (and saying why), ok again once the log is back; its source's counters alongside."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

from infra.bus import Bus
from infra.embedded import free_port, nats_server
from infra.health import health_served
from ingest.health import IngestHealth
from ingest.service import IngestConfig, IngestService
from tests.integration.ingest.test_ingest_service import GatedSource
from tests.kit.events import print_at as trade
from tests.kit.health import read_health

SECOND = 1_000_000_000
T0 = 1_767_366_000 * SECOND  # 2026-01-02T15:00:00Z


async def health_when(
    port: int, holds: Callable[[dict[str, Any]], bool], timeout_s: float = 20.0
) -> tuple[int, dict[str, Any]]:
    async with asyncio.timeout(timeout_s):
        while True:
            code, body = await asyncio.to_thread(read_health, port)
            if holds(body):
                return code, body
            await asyncio.sleep(0.05)


async def test_ingest_health_is_ok_publishing_and_degraded_while_the_log_is_away(
    tmp_path: Path,
) -> None:
    server = nats_server(tmp_path / "nats")
    await asyncio.to_thread(server.start)
    nats_port = int(server.url.rsplit(":", 1)[1])
    bus = await Bus.connect(server.url, timeout_s=1.0)
    await bus.ensure_streams()
    gate = asyncio.Event()
    before = [trade(T0 + n * SECOND) for n in range(3)]
    after = [trade(T0), trade(T0 + 10 * SECOND)]  # one repeat of the log's first, one new
    config = IngestConfig(flush_interval_s=0.01, backoff_max_s=0.2, heartbeat_interval_s=0.1)
    service = IngestService(GatedSource(before, after, gate), bus, config)
    health = IngestHealth(service)
    port = free_port()
    try:
        async with health_served(health.report, port, observe=health.observe, every_s=0.05):
            running = asyncio.create_task(service.run())
            code, body = await health_when(port, lambda b: b["lastCycle"] is not None)
            assert (code, body["status"], body["source"]) == (200, "ok", "gated")
            assert body["events"] == 3 and body["lastEventTime"] == "2026-01-02T15:00:02.000Z"
            assert body["errors"] == {"count": 0, "last": None}

            await asyncio.to_thread(server.stop)
            code, body = await health_when(port, lambda b: b["status"] != "ok")
            assert (code, body["status"]) == (503, "degraded")
            assert body["errors"]["count"] >= 1 and body["errors"]["last"] == "publish failed"

            gate.set()
            code, body = await health_when(port, lambda b: b["repeatsSkipped"] == 1)
            assert (code, body["status"], body["events"]) == (503, "degraded", 4)
            assert body["lastEventTime"] == "2026-01-02T15:00:10.000Z"

            server = nats_server(tmp_path / "nats", port=nats_port)
            await asyncio.to_thread(server.start)
            # heartbeats come and go in the buffer: wait for a moment it is empty
            code, body = await health_when(
                port, lambda b: b["status"] == "ok" and b["buffered"] == 0
            )
            assert code == 200
            service.stop()
            await asyncio.wait_for(running, 30)
    finally:
        await bus.close()
        await asyncio.to_thread(server.stop)
