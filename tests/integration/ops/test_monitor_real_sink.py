"""The monitor watching a real `flowtape sink` on a private NATS and ClickHouse: healthy polls
give nothing; ClickHouse stopping while data arrives gives one alert each for
`clickhouse_down`, `degraded` and `backlog_growing`, then one recovery each; killing the sink
gives one `service_down`."""

from __future__ import annotations

import asyncio
import os
import signal
from pathlib import Path

import aiohttp
import pytest

from infra.bus import Bus
from infra.embedded import clickhouse_server, free_port, nats_server
from ops.monitor import Monitor
from ops.monitor_config import MonitorConfig, Rules
from ops.notify import TelegramChat, Webhook
from schemas.subjects import RAW_STREAM
from tests.integration.live.session import Session, build_session, publish
from tests.integration.live.test_sink_health import health_when, start_sink
from tests.integration.ops.test_monitor import SECRET, TOKEN, Receivers


def slices(session: Session, parts: int) -> list[Session]:
    raw = [m for m in session.messages if m.stream == RAW_STREAM]
    size = len(raw) // parts + 1
    return [Session(messages=raw[i * size : (i + 1) * size]) for i in range(parts)]


@pytest.mark.slow
async def test_the_monitor_alerts_once_per_rule_on_a_real_sink(tmp_path: Path) -> None:
    nats, clickhouse = nats_server(tmp_path / "nats"), clickhouse_server(tmp_path / "ch")
    await asyncio.gather(asyncio.to_thread(nats.start), asyncio.to_thread(clickhouse.start))
    clickhouse_port = int(clickhouse.url.rsplit(":", 1)[1])
    health_port = free_port()
    env = {**os.environ, "NATS_URL": nats.url, "CLICKHOUSE_URL": clickhouse.url,
           "CLICKHOUSE_DATABASE": "flowtape", "FLOWTAPE_DATA_DIR": str(tmp_path / "data"),
           "REDIS_URL": "redis://127.0.0.1:1/0"}  # fmt: skip
    sink = start_sink(env, health_port)
    receivers = Receivers()
    receiving = await receivers.start()
    base = f"http://127.0.0.1:{receivers.port}"
    config = MonitorConfig(
        services={"sink": f"http://127.0.0.1:{health_port}/health"}, poll_every_s=1.0,
        clickhouse_url=clickhouse.url, health_port=None,
        rules=Rules(degraded_polls=2, backlog_polls=3, backlog_min=0, stale_after_s=3600),
        channels=[Webhook(f"{base}/hook", SECRET), TelegramChat(base, TOKEN, "-1")],
    )  # fmt: skip
    parts = slices(build_session(prints=1500), 6)
    bus = await Bus.connect(nats.url)
    try:
        await health_when(health_port, lambda b: b["status"] == "ok", sink, 90)
        async with aiohttp.ClientSession() as http:
            monitor = Monitor(config, http)
            await publish(bus, parts[0])
            await health_when(health_port, lambda b: b["backlogSize"] == 0, sink, 60)
            for _ in range(3):
                assert await monitor.poll() == {}

            await asyncio.to_thread(clickhouse.stop)
            await publish(bus, parts[1])
            await health_when(health_port, lambda b: b["status"] == "degraded", sink, 60)
            backlog = 0
            for part in parts[2:5]:  # data keeps coming while ClickHouse is away
                await publish(bus, part)
                # the sink refreshes its lag figure on its retries: wait until it has
                _, body = await health_when(
                    health_port, lambda b, seen=backlog: b["backlogSize"] > seen, sink, 60
                )
                backlog = body["backlogSize"]
                await monitor.poll()
            assert set(receivers.sent()) == {
                ("clickhouse_down", "clickhouse", "firing"), ("degraded", "sink", "firing"),
                ("backlog_growing", "sink", "firing"),
            }  # fmt: skip
            assert len(receivers.sent()) == 3

            clickhouse = clickhouse_server(tmp_path / "ch", port=clickhouse_port)
            await asyncio.to_thread(clickhouse.start)
            await health_when(
                health_port, lambda b: b["status"] == "ok" and b["backlogSize"] == 0, sink, 90
            )
            await monitor.poll()
            assert sorted(receivers.sent()[3:]) == [
                ("backlog_growing", "sink", "recovered"),
                ("clickhouse_down", "clickhouse", "recovered"),
                ("degraded", "sink", "recovered"),
            ]

            sink.send_signal(signal.SIGKILL)
            sink.wait(10)
            for _ in range(3):
                await monitor.poll()
            assert receivers.sent()[6:] == [("service_down", "sink", "firing")]
    finally:
        if sink.poll() is None:
            sink.terminate()
        sink.communicate(timeout=30)
        await bus.close()
        await receiving.cleanup()
        await asyncio.gather(asyncio.to_thread(nats.stop), asyncio.to_thread(clickhouse.stop))
    assert len(receivers.chats) == len(receivers.hooks) == 7
