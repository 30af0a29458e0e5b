"""Flow-alert delivery against webhooks on 127.0.0.1: at least once to a receiver that fails
its first attempts, signatures that verify, a dead receiver's alerts in the dead-letter
table, and `flowtape deliver --dry-run` printing what it would send and sending nothing."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import os
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from infra.bus import Bus
from infra.embedded import free_port
from infra.warehouse import Warehouse
from ops.dead_letters import DeadLetterTable
from ops.delivery import AlertDelivery, RetryPolicy, load_position, run_delivery
from ops.subscribers import Subscriber
from schemas.events import Alert
from schemas.subjects import derived_subject
from tests.conftest import Servers
from tests.kit.derived import alert

FAST = RetryPolicy(attempts=4, first_delay_s=0.01, max_delay_s=0.05, timeout_s=2.0)
ALERTS = [
    alert(alert_id="a-aapl-4", underlying="AAPL", severity=4, rules=["sweep"]),
    alert(alert_id="a-spy-2", underlying="SPY", severity=2, rules=["sweep"]),
    alert(alert_id="a-aapl-5", underlying="AAPL", severity=5, rules=["block"]),
    alert(alert_id="a-aapl-3", underlying="AAPL", severity=3, rules=["block"]),
]


@dataclass
class Receiver:
    """A webhook that answers 503 to the first `failures` attempts of each delivery."""

    failures: int = 0
    attempts: Counter[str] = field(default_factory=Counter)
    accepted: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    runner: web.AppRunner | None = None
    url: str = ""

    async def start(self) -> None:
        async def hook(request: web.Request) -> web.Response:
            body = await request.read()
            delivery = request.headers["X-Flowtape-Delivery"]
            self.attempts[delivery] += 1
            if self.attempts[delivery] <= self.failures:
                return web.Response(status=503)
            self.accepted.append((dict(request.headers), body))
            return web.Response(status=204)

        app = web.Application()
        app.router.add_post("/hook", hook)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        port = free_port()
        await web.TCPSite(self.runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{port}/hook"

    async def stop(self) -> None:
        if self.runner is not None:
            await self.runner.cleanup()


def expected_signature(secret: bytes, body: bytes) -> str:
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


async def publish_alerts(bus: Bus, alerts: list[Alert]) -> None:
    for one in alerts:  # one message each: the position moves alert by alert
        await bus.publish(derived_subject(Alert), [one], run_id="live")


async def deliver_all(
    bus: Bus, subscribers: list[Subscriber], warehouse: Warehouse, position: Path
) -> int:
    async with aiohttp.ClientSession() as http:
        delivery = AlertDelivery(subscribers, http, DeadLetterTable(warehouse), "live", FAST)
        return await run_delivery(
            bus, delivery.deliver, start_seq=load_position(position) + 1, stop=asyncio.Event(),
            until_idle=True, position_path=position,
        )  # fmt: skip


async def test_a_receiver_failing_its_first_attempts_gets_each_matching_alert_signed(
    bus: Bus, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    flaky, healthy = Receiver(failures=2), Receiver()
    await flaky.start()
    await healthy.start()
    desk = Subscriber("desk", flaky.url, b"desk-secret", frozenset({"AAPL"}), 4)
    blocks = Subscriber("blocks", healthy.url, b"blocks-secret", rules=frozenset({"block"}))
    try:
        await publish_alerts(bus, ALERTS)
        last = await deliver_all(bus, [desk, blocks], fresh_warehouse, tmp_path / "pos.json")
    finally:
        await flaky.stop()
        await healthy.stop()

    # desk: AAPL at severity 4 or more; blocks: any alert with the block rule
    assert flaky.attempts == {"a-aapl-4:desk": 3, "a-aapl-5:desk": 3}
    assert healthy.attempts == {"a-aapl-5:blocks": 1, "a-aapl-3:blocks": 1}
    for receiver, secret in ((flaky, b"desk-secret"), (healthy, b"blocks-secret")):
        for headers, body in receiver.accepted:
            assert headers["X-Flowtape-Signature"] == expected_signature(secret, body)
            sent = json.loads(body)
            assert sent["deliveryId"] == headers["X-Flowtape-Delivery"]
            assert sent["alert"]["alert_id"] == sent["deliveryId"].split(":")[0]
    assert last == load_position(tmp_path / "pos.json") == len(ALERTS)
    assert fresh_warehouse.scalar("SELECT count() FROM alert_dead_letters") == 0


async def test_a_dead_receivers_alerts_land_in_the_dead_letter_table(
    bus: Bus, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    dead_url = f"http://127.0.0.1:{free_port()}/hook"  # nothing listens there
    refusing = Receiver(failures=10**6)  # answers, always 503
    await refusing.start()
    gone = Subscriber("gone", dead_url, b"s1", frozenset({"AAPL"}))
    busy = Subscriber("busy", refusing.url, b"s2", min_severity=5)
    try:
        await publish_alerts(bus, ALERTS)
        await deliver_all(bus, [gone, busy], fresh_warehouse, tmp_path / "pos.json")
    finally:
        await refusing.stop()

    rows = fresh_warehouse.rows(
        "SELECT subscriber, alert_id, attempts, url, last_error, body, log_seq "
        "FROM alert_dead_letters ORDER BY subscriber, log_seq"
    )
    assert [(r[0], r[1], r[2], r[3]) for r in rows] == [
        ("busy", "a-aapl-5", 4, refusing.url),
        ("gone", "a-aapl-4", 4, dead_url),
        ("gone", "a-aapl-5", 4, dead_url),
        ("gone", "a-aapl-3", 4, dead_url),
    ]
    assert rows[0][4] == "HTTP 503" and "Connect" in rows[1][4]
    assert refusing.attempts == {"a-aapl-5:busy": 4}
    for subscriber, alert_id, _, _, _, body, log_seq in rows:
        stored = json.loads(body)
        assert stored["deliveryId"] == f"{alert_id}:{subscriber}"
        assert [a.alert_id for a in ALERTS][log_seq - 1] == alert_id


async def test_a_restart_resumes_after_the_last_settled_alert(
    bus: Bus, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    everyone = Subscriber("everyone", receiver.url, b"k")
    try:
        await publish_alerts(bus, ALERTS[:2])
        await deliver_all(bus, [everyone], fresh_warehouse, tmp_path / "pos.json")
        await publish_alerts(bus, ALERTS[2:])
        await deliver_all(bus, [everyone], fresh_warehouse, tmp_path / "pos.json")
    finally:
        await receiver.stop()
    assert receiver.attempts == {f"{a.alert_id}:everyone": 1 for a in ALERTS}


async def test_dry_run_prints_each_delivery_and_sends_nothing(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    receiver = Receiver()
    await receiver.start()
    (tmp_path / "subscribers.toml").write_text(
        f'[[subscriber]]\nname = "desk"\nurl = "{receiver.url}"\n'
        'secret_env = "DESK_SECRET"\nsymbols = ["AAPL"]\nmin_severity = 4\n'
    )
    await publish_alerts(bus, ALERTS)
    env = {**os.environ, **servers.environment(), "DESK_SECRET": "desk-secret",
           "FLOWTAPE_DATA_DIR": str(tmp_path / "data")}  # fmt: skip
    try:
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "cli.main", "deliver", "--subscribers",
             str(tmp_path / "subscribers.toml"), "--dry-run"],
            env=env, capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        await receiver.stop()
    assert done.returncode == 0, done.stderr[-2000:]
    lines: list[dict[str, Any]] = [json.loads(line) for line in done.stdout.splitlines()]
    assert [(d["subscriber"], d["body"]["alert"]["alert_id"]) for d in lines] == [
        ("desk", "a-aapl-4"), ("desk", "a-aapl-5"),
    ]  # fmt: skip
    assert all(d["url"] == receiver.url for d in lines)
    assert "desk-secret" not in done.stdout + done.stderr
    assert receiver.attempts == {}
    assert not (tmp_path / "data" / "delivery-position.json").exists()
