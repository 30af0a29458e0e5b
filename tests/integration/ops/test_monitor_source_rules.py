"""Two rules' finer points on real servers: a backlog that rises below `backlog_min` is a
consumer's batching, not growth; `stale_data` reads the log (a source with nothing on it is
stale once its allowance has passed since the monitor started), keeps its verdict while the
log cannot be read, ignores heartbeats, and recovers on market data."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp

from infra.bus import Bus
from infra.embedded import nats_server
from ops.monitor import STALE_DATA, Monitor
from ops.monitor_config import MonitorConfig, Rules, Source
from ops.notify import TelegramChat, Webhook
from schemas.events import EquityPrint, Heartbeat
from schemas.subjects import raw_subject
from tests.integration.ops.test_monitor import SECRET, TOKEN, Receivers, Service, monitoring_url
from tests.kit.events import equity_print, heartbeat


class Clock:
    """Wall time moved forward by the test."""

    def __init__(self) -> None:
        self.ahead_s = 0.0

    def __call__(self) -> float:
        return time.time() + self.ahead_s


async def test_a_backlog_rising_below_the_floor_is_batching_and_above_it_growth() -> None:
    sink, receivers = Service(), Receivers()
    receiving = await receivers.start()
    await sink.start()
    base = f"http://127.0.0.1:{receivers.port}"
    config = MonitorConfig(
        services={"sink": sink.url}, poll_every_s=1.0, clickhouse_url="", health_port=None,
        rules=Rules(backlog_polls=3, backlog_min=1_000),
        channels=[Webhook(f"{base}/hook", SECRET), TelegramChat(base, TOKEN, "-1")],
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            monitor = Monitor(config, http)
            for backlog in (10, 200, 600, 990):  # rising four polls, all below the floor
                sink.backlog = backlog
                assert await monitor.poll() == {}
            sink.backlog = 1_400  # the third rise in a row, now past the floor
            assert set(await monitor.poll()) == {("backlog_growing", "sink")}
    finally:
        await sink.kill()
        await receiving.cleanup()
    assert receivers.sent() == [("backlog_growing", "sink", "firing")]


async def test_stale_data_reads_the_log_holds_while_it_is_away_and_recovers_on_data(
    tmp_path: Path,
) -> None:
    nats = nats_server(tmp_path / "nats")
    await asyncio.to_thread(nats.start)
    receivers = Receivers()
    receiving = await receivers.start()
    base = f"http://127.0.0.1:{receivers.port}"
    config = MonitorConfig(
        services={}, poll_every_s=1.0, clickhouse_url="", health_port=None, rules=Rules(),
        channels=[Webhook(f"{base}/hook", SECRET), TelegramChat(base, TOKEN, "-1")],
        nats_monitor_url=monitoring_url(nats), nats_url=nats.url,
        sources={"venue": Source(hours="always", max_age_s=60)},
    )  # fmt: skip
    clock = Clock()
    bus = await Bus.connect(nats.url)
    await bus.ensure_streams()
    try:
        async with aiohttp.ClientSession() as http:
            monitor = Monitor(config, http, clock=clock)
            try:
                assert await monitor.poll() == {}  # nothing yet, but nothing due yet either
                # a heartbeat is no market data
                beat = heartbeat(ts_recv=time.time_ns(), source="venue")
                await bus.publish(raw_subject(Heartbeat, "venue"), [beat], run_id="live")
                clock.ahead_s = 61
                firing = await monitor.poll()
                assert set(firing) == {(STALE_DATA, "venue")}
                assert firing[(STALE_DATA, "venue")].startswith("no data on the log")

                await asyncio.to_thread(nats.stop)  # the log away: the verdict holds
                assert set(await monitor.poll()) == {
                    (STALE_DATA, "venue"), ("jetstream_down", "nats"),
                }  # fmt: skip
                await asyncio.to_thread(nats.start)  # the same ports
                clock.ahead_s = 0  # data now, seen at the real time
                trade, subject = equity_print(source="venue"), raw_subject(EquityPrint, "venue")
                async with asyncio.timeout(30):
                    while True:  # the publisher reconnects by itself
                        try:
                            await bus.publish(subject, [trade], run_id="live")
                            break
                        except Exception:  # noqa: BLE001  (not connected again yet)
                            await asyncio.sleep(0.2)
                assert await monitor.poll() == {}
            finally:
                await monitor.close()
    finally:
        await bus.close()
        await receiving.cleanup()
        await asyncio.to_thread(nats.stop)
    assert receivers.sent() == [
        (STALE_DATA, "venue", "firing"), ("jetstream_down", "nats", "firing"),
        ("jetstream_down", "nats", "recovered"), (STALE_DATA, "venue", "recovered"),
    ]  # fmt: skip
