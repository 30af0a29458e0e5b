"""The monitor over a real live stack on loopback (synthetic ingest at ten times real time,
compute, sink, api; NATS, Redis and ClickHouse), every service's `/health`, ClickHouse,
JetStream and the source's data polled each second, every rule armed:

- ten minutes of synthetic market (a minute of wall time) raise nothing;
- the sink stalled (SIGSTOP) while the market goes on: its `/health` stops answering, which
  is `service_down sink` and nothing else (the others keep up; the source's data keeps
  arriving), exactly once on the webhook and the chat; one recovery once it runs again and
  has caught up (its backlog shrinking, never growing three polls in a row)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid
from datetime import datetime
from pathlib import Path

import aiohttp
import pytest

from infra.embedded import free_port, nats_server
from infra.warehouse import Warehouse
from ops.monitor import Monitor
from ops.monitor_config import Follows, MonitorConfig, Rules, Source
from ops.notify import TelegramChat, Webhook
from tests.conftest import Servers
from tests.integration.live.test_sink_health import health_when
from tests.integration.ops.processes import poll_until, start_flowtape, stop, synthetic_ingest
from tests.integration.ops.test_monitor import SECRET, TOKEN, Receivers, monitoring_url

SPEED = 10.0  # session seconds per wall second
HEALTHY_S = 60.0  # ten minutes of market


@pytest.mark.slow
async def test_a_healthy_market_raises_nothing_and_a_stalled_sink_one_service_down(
    tmp_path: Path, servers: Servers, fresh_warehouse: Warehouse
) -> None:
    nats = nats_server(tmp_path / "nats")  # its own log: compute reads RAW from the start
    await asyncio.to_thread(nats.start)
    env = {
        **os.environ, "NATS_URL": nats.url, "REDIS_URL": servers.redis_url,
        "CLICKHOUSE_URL": servers.clickhouse_url,
        "CLICKHOUSE_DATABASE": fresh_warehouse.database,
        "FLOWTAPE_DATA_DIR": str(tmp_path / "data"),
        "FLOWTAPE_RUN_ID": f"live-{uuid.uuid4().hex[:8]}",  # its own checkpoint in Redis
        "FLOWTAPE_ENV": "development", "API_AUTH": "off",
    }  # fmt: skip
    ports = {name: free_port() for name in ("ingest", "compute", "sink", "api")}
    processes = {
        "ingest": synthetic_ingest(env, ports["ingest"], speed=SPEED, minutes=25),
        "compute": start_flowtape(["compute", "--health-port", str(ports["compute"])], env),
        "sink": start_flowtape(["sink", "--health-port", str(ports["sink"])], env),
        "api": start_flowtape(["api", "--port", str(ports["api"]), "--log-level", "warning"], env),
    }
    receivers = Receivers()
    receiving = await receivers.start()
    base = f"http://127.0.0.1:{receivers.port}"
    config = MonitorConfig(
        services={name: f"http://127.0.0.1:{port}/health" for name, port in ports.items()},
        poll_every_s=1.0, health_timeout_s=3.0, clickhouse_url=servers.clickhouse_url,
        health_port=None,
        rules=Rules(degraded_polls=2, backlog_polls=3, stale_after_s=10, follows=[
            Follows(follower="compute", leader="ingest", max_lag_s=10),
            Follows(follower="sink", leader="ingest", max_lag_s=10),
        ]),
        channels=[Webhook(f"{base}/hook", SECRET), TelegramChat(base, TOKEN, "-9")],
        nats_monitor_url=monitoring_url(nats), nats_url=nats.url,
        sources={"synthetic": Source(hours="always", max_age_s=5)},
    )  # fmt: skip
    errors: dict[str, str] = {}
    try:
        await health_when(ports["ingest"], lambda b: b["events"] > 0, processes["ingest"], 90)
        for name in ("compute", "sink", "api"):
            await health_when(
                ports[name], lambda b: b["status"] == "ok" and b["lastCycle"], processes[name], 90
            )
        async with aiohttp.ClientSession() as http:
            monitor = Monitor(config, http)
            try:
                started = time.monotonic()
                while time.monotonic() - started < HEALTHY_S:  # a healthy market
                    assert await monitor.poll() == {}
                    await asyncio.sleep(config.poll_every_s)
                assert receivers.hooks == []

                processes["sink"].send_signal(signal.SIGSTOP)  # the sink stalls
                firing = await poll_until(monitor, lambda f: f != {}, 15)
                assert set(firing) == {("service_down", "sink")}
                for _ in range(5):  # still stalled, the market going on: nothing more
                    await asyncio.sleep(config.poll_every_s)
                    assert set(await monitor.poll()) == {("service_down", "sink")}

                processes["sink"].send_signal(signal.SIGCONT)
                await health_when(  # its first answers hold the state from before the stall
                    ports["sink"], lambda b: b["status"] == "ok" and b["backlogSize"] < 1000
                    and time.time() - datetime.fromisoformat(b["lastCycle"]).timestamp() < 3,
                    processes["sink"], 60,
                )  # fmt: skip
                await poll_until(monitor, lambda f: f == {}, 30)
                for _ in range(3):
                    await asyncio.sleep(config.poll_every_s)
                    assert await monitor.poll() == {}
            finally:
                await monitor.close()
    finally:
        for name, process in processes.items():
            errors[name] = stop(process)
        await receiving.cleanup()
        await asyncio.to_thread(nats.stop)
    assert receivers.sent() == [
        ("service_down", "sink", "firing"), ("service_down", "sink", "recovered"),
    ], errors  # fmt: skip
    assert len(receivers.chats) == 2 and {c["chat_id"] for c in receivers.chats} == {"-9"}
