"""The daemon's /health: down before it reads the log, ok while it applies RAW, degraded
while NATS is away and ok again after."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from compute.candles import Market
from infra.bus import Bus
from infra.embedded import free_port, nats_server
from infra.health import health_served
from live.daemon.config import DaemonSettings
from live.daemon.health import DaemonHealth
from live.daemon.server import DaemonServer
from live.daemon.service import Daemon
from tests.integration.live.daemon.running import T0, caught_up, publish
from tests.kit.events import equity_print


async def read(http: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with http.get(url) as response:
        return response.status, await response.json()


async def until(http: aiohttp.ClientSession, url: str, status: str) -> tuple[int, dict[str, Any]]:
    async with asyncio.timeout(20):
        while True:
            code, body = await read(http, url)
            if body["status"] == status:
                return code, body
            await asyncio.sleep(0.05)


async def test_daemon_health_through_start_work_and_a_lost_log(
    tmp_path: Path, socket_path: Path
) -> None:
    server = nats_server(tmp_path / "nats")
    await asyncio.to_thread(server.start)
    nats_port = int(server.url.rsplit(":", 1)[1])
    bus = await Bus.connect(server.url, timeout_s=1.0)
    await bus.ensure_streams()
    config = DaemonSettings(seed=False, socket_path=socket_path)
    daemon = Daemon(bus, DaemonServer(Market(config.buffers()), config, socket_path),
                    start_seq=1, fetch_messages=config.fetch_messages)  # fmt: skip
    health, port = DaemonHealth(daemon), free_port()
    url = f"http://127.0.0.1:{port}/health"
    try:
        async with (
            health_served(health.report, port, observe=health.observe, every_s=0.05),
            aiohttp.ClientSession() as http,
        ):
            code, body = await read(http, url)
            assert (code, body["status"], body["lastCycle"]) == (503, "down", None)

            running = asyncio.create_task(daemon.run())
            await publish(bus, [equity_print(ts_recv=T0 + n, sequence=n) for n in range(1, 4)])
            await caught_up(daemon, bus)
            code, body = await until(http, url, "ok")
            assert code == 200 and body["events"] == 3 and body["position"] == 1
            await asyncio.sleep(0.1)  # an observation after the message
            assert (await read(http, url))[1]["lastCycle"] is not None

            await asyncio.to_thread(server.stop)
            code, body = await until(http, url, "degraded")
            assert code == 503
            server = nats_server(tmp_path / "nats", port=nats_port)
            await asyncio.to_thread(server.start)
            code, body = await until(http, url, "ok")
            assert code == 200
            daemon.stop()
            await asyncio.wait_for(running, 30)
    finally:
        await bus.close()
        await asyncio.to_thread(server.stop)
