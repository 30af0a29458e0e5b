"""The monitor against services on loopback, a private ClickHouse, a webhook receiver and a
fake of Telegram's Bot API: each fault gives exactly one alert per rule on both channels and
one recovery notice after; a healthy run gives nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from infra.embedded import EmbeddedServer, clickhouse_server, free_port, nats_server
from infra.health import HealthStatus, HealthTracker, serve_health
from ops.monitor import Monitor
from ops.monitor_config import Follows, MonitorConfig, Rules
from ops.notify import TelegramChat, Webhook

TOKEN = "123456:test-token"  # noqa: S105  (the fake chat API's)
SECRET = b"monitor-secret"


@dataclass
class Service:
    """A /health on a fixed port whose status and backlog the test sets."""

    port: int = field(default_factory=free_port)
    status: HealthStatus = "ok"
    backlog: int = 0
    tracker: HealthTracker = field(default_factory=HealthTracker)
    runner: web.AppRunner | None = None

    async def start(self) -> None:
        self.tracker.cycle()
        report = lambda: self.tracker.report(self.status, backlogSize=self.backlog)  # noqa: E731
        self.runner = await serve_health(report, "127.0.0.1", self.port)

    async def kill(self) -> None:
        assert self.runner is not None
        await self.runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/health"


@dataclass
class Receivers:
    """The webhook and the chat API, recording what they were sent."""

    hooks: list[dict[str, Any]] = field(default_factory=list)
    chats: list[dict[str, Any]] = field(default_factory=list)
    port: int = field(default_factory=free_port)

    async def start(self) -> web.AppRunner:
        async def hook(request: web.Request) -> web.Response:
            body = await request.read()
            expected = "sha256=" + hmac.new(SECRET, body, hashlib.sha256).hexdigest()
            assert request.headers["X-Flowtape-Signature"] == expected
            self.hooks.append(json.loads(body))
            return web.Response(status=204)

        async def send_message(request: web.Request) -> web.Response:
            assert request.match_info["token"] == TOKEN
            self.chats.append(await request.json())
            return web.json_response({"ok": True, "result": {"message_id": len(self.chats)}})

        app = web.Application()
        app.router.add_post("/hook", hook)
        app.router.add_post("/bot{token}/sendMessage", send_message)
        runner = web.AppRunner(app)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner

    def sent(self) -> list[tuple[str, str, str]]:
        return [(h["rule"], h["target"], h["state"]) for h in self.hooks]


def monitoring_url(nats: EmbeddedServer) -> str:
    """The server's monitoring base URL (its --http_port)."""
    return f"http://127.0.0.1:{nats.command[nats.command.index('--http_port') + 1]}"


async def test_one_alert_per_rule_and_a_recovery_for_each_fault(tmp_path: Path) -> None:
    clickhouse = clickhouse_server(tmp_path / "clickhouse")
    nats = nats_server(tmp_path / "nats")
    await asyncio.gather(asyncio.to_thread(clickhouse.start), asyncio.to_thread(nats.start))
    clickhouse_port = int(clickhouse.url.rsplit(":", 1)[1])
    sink, api = Service(), Service()
    receivers = Receivers()
    receiving = await receivers.start()
    await sink.start()
    await api.start()
    base = f"http://127.0.0.1:{receivers.port}"
    config = MonitorConfig(
        services={"sink": sink.url, "api": api.url}, poll_every_s=2.0,
        clickhouse_url=clickhouse.url, health_port=None,
        rules=Rules(degraded_polls=2, backlog_polls=3, backlog_min=0, stale_after_s=60,
                    follows=[Follows(follower="sink", leader="api", max_lag_s=30)]),
        channels=[Webhook(f"{base}/hook", SECRET), TelegramChat(base, TOKEN, "-100")],
        nats_monitor_url=monitoring_url(nats),
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession() as http:
            monitor = Monitor(config, http)
            for _ in range(5):  # healthy
                assert await monitor.poll() == {}
            assert receivers.hooks == []

            sink.status = "degraded"  # the sink stalls: degraded, its backlog growing
            for backlog in (10, 20, 30, 40, 50):
                sink.backlog = backlog
                await monitor.poll()
            assert receivers.sent() == [
                ("degraded", "sink", "firing"), ("backlog_growing", "sink", "firing"),
            ]  # fmt: skip
            sink.status, sink.backlog = "ok", 0
            await monitor.poll()
            await monitor.poll()
            assert receivers.sent()[2:] == [
                ("degraded", "sink", "recovered"), ("backlog_growing", "sink", "recovered"),
            ]  # fmt: skip

            await api.kill()  # a service dies
            for _ in range(3):
                await monitor.poll()
            await api.start()
            await monitor.poll()
            assert receivers.sent()[4:] == [
                ("service_down", "api", "firing"), ("service_down", "api", "recovered"),
            ]  # fmt: skip

            await asyncio.to_thread(clickhouse.stop)  # ClickHouse goes away
            for _ in range(3):
                await monitor.poll()
            clickhouse = clickhouse_server(tmp_path / "clickhouse", port=clickhouse_port)
            await asyncio.to_thread(clickhouse.start)
            await monitor.poll()
            assert receivers.sent()[6:] == [
                ("clickhouse_down", "clickhouse", "firing"),
                ("clickhouse_down", "clickhouse", "recovered"),
            ]

            api.tracker.last_cycle = time.time() - 600  # nothing done for ten minutes
            for _ in range(3):
                await monitor.poll()
            api.tracker.cycle()
            await monitor.poll()
            assert receivers.sent()[8:] == [
                ("stale", "api", "firing"), ("stale", "api", "recovered"),
            ]  # fmt: skip

            api.tracker.last_cycle = time.time() + 100  # the sink trails the api's work
            for _ in range(3):
                await monitor.poll()
            api.tracker.cycle()
            await monitor.poll()
            assert receivers.sent()[10:] == [
                ("lagging", "sink", "firing"), ("lagging", "sink", "recovered"),
            ]  # fmt: skip

            await asyncio.to_thread(nats.stop)  # NATS, and JetStream with it, goes away
            for _ in range(3):
                await monitor.poll()
            await asyncio.to_thread(nats.start)
            await monitor.poll()
            assert receivers.sent()[12:] == [
                ("jetstream_down", "nats", "firing"), ("jetstream_down", "nats", "recovered"),
            ]  # fmt: skip

            for _ in range(3):  # healthy again: nothing more
                assert await monitor.poll() == {}
    finally:
        await sink.kill()
        await api.kill()
        await receiving.cleanup()
        await asyncio.gather(asyncio.to_thread(clickhouse.stop), asyncio.to_thread(nats.stop))

    assert len(receivers.hooks) == len(receivers.chats) == 14
    for hook, chat in zip(receivers.hooks, receivers.chats, strict=True):
        assert chat["chat_id"] == "-100"
        mark = "ALERT" if hook["state"] == "firing" else "RECOVERED"
        assert chat["text"].startswith(f"[flowtape {mark}] {hook['rule']} {hook['target']}")
    assert monitor.report()["status"] == "ok" and monitor.report()["firing"] == []
