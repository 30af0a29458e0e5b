"""The monitor's `stale_data` rule on a real synthetic source: while the `flowtape ingest`
process is stopped (SIGSTOP) its data stops reaching the log, and the monitor sends exactly
one alert to the webhook and the chat; one recovery once it runs again (SIGCONT)."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from infra.embedded import free_port, nats_server
from ops.monitor import STALE_DATA, Monitor
from ops.monitor_config import MonitorConfig, Rules, Source
from ops.notify import TelegramChat, Webhook
from tests.integration.live.test_sink_health import health_when
from tests.integration.ops.processes import poll_until, stop, synthetic_ingest
from tests.integration.ops.test_monitor import SECRET, TOKEN, Receivers, monitoring_url

MAX_AGE_S = 3.0


@pytest.mark.slow
async def test_a_paused_source_gives_one_stale_data_alert_and_one_recovery(
    tmp_path: Path,
) -> None:
    nats = nats_server(tmp_path / "nats")
    await asyncio.to_thread(nats.start)
    env = {**os.environ, "NATS_URL": nats.url, "FLOWTAPE_DATA_DIR": str(tmp_path / "data"),
           "REDIS_URL": "redis://127.0.0.1:1/0",  # unused by ingest: keeps it off embedded ones
           "CLICKHOUSE_URL": "http://127.0.0.1:1"}  # fmt: skip
    health_port = free_port()
    ingest = synthetic_ingest(env, health_port, speed=10, minutes=10)
    receivers = Receivers()
    receiving = await receivers.start()
    base = f"http://127.0.0.1:{receivers.port}"
    config = MonitorConfig(
        services={}, poll_every_s=1.0, clickhouse_url="", health_port=None, rules=Rules(),
        channels=[Webhook(f"{base}/hook", SECRET), TelegramChat(base, TOKEN, "-5")],
        nats_monitor_url=monitoring_url(nats), nats_url=nats.url,
        sources={"synthetic": Source(hours="always", max_age_s=MAX_AGE_S)},
    )  # fmt: skip
    try:
        await health_when(health_port, lambda b: b["events"] > 1000, ingest, 90)
        async with aiohttp.ClientSession() as http:
            monitor = Monitor(config, http)
            try:
                for _ in range(4):  # data flowing: nothing
                    assert await monitor.poll() == {}
                    await asyncio.sleep(1.0)

                ingest.send_signal(signal.SIGSTOP)  # the source pauses
                firing = await poll_until(monitor, lambda f: f != {}, 4 * MAX_AGE_S)
                assert set(firing) == {(STALE_DATA, "synthetic")}
                assert "s of open market without" in firing[(STALE_DATA, "synthetic")]
                for _ in range(3):  # still paused: no second alert
                    assert set(await monitor.poll()) == {(STALE_DATA, "synthetic")}
                    await asyncio.sleep(1.0)

                ingest.send_signal(signal.SIGCONT)  # it goes on
                await poll_until(monitor, lambda f: f == {}, 30)
                for _ in range(3):
                    assert await monitor.poll() == {}
                    await asyncio.sleep(1.0)
            finally:
                await monitor.close()
    finally:
        err = stop(ingest)
        await receiving.cleanup()
        await asyncio.to_thread(nats.stop)
    assert receivers.sent() == [
        (STALE_DATA, "synthetic", "firing"), (STALE_DATA, "synthetic", "recovered"),
    ], err  # fmt: skip
    assert [c["text"].split(":")[0] for c in receivers.chats] == [
        "[flowtape ALERT] stale_data synthetic", "[flowtape RECOVERED] stale_data synthetic",
    ]  # fmt: skip
