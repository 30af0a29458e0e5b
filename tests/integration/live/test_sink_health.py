"""`flowtape sink --health-port`: ok while it keeps up, degraded with the backlog growing in
plain sight while ClickHouse is away, down while NATS is, and ok again after each returns."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.bus import Bus
from infra.embedded import clickhouse_server, free_port, nats_server
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from tests.integration.live.session import Session, build_session, publish
from tests.kit.health import read_health


async def health_when(
    port: int,
    holds: Callable[[dict[str, Any]], bool],
    sink: subprocess.Popen[bytes],
    timeout_s: float,
) -> tuple[int, dict[str, Any]]:
    deadline = time.monotonic() + timeout_s
    seen: tuple[int, dict[str, Any]] | None = None
    while time.monotonic() < deadline:
        assert sink.poll() is None, sink.communicate()[1].decode()[-3000:]
        try:
            seen = await asyncio.to_thread(read_health, port)
        except OSError:  # not serving yet
            seen = None
        if seen is not None and holds(seen[1]):
            return seen
        await asyncio.sleep(0.1)
    raise AssertionError(f"/health never held; last seen: {seen}")


def start_sink(env: dict[str, str], health_port: int) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-m", "cli.main", "sink", "--batch-rows", "200",
            "--health-port", str(health_port)]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603  (this interpreter)


def thirds(session: Session) -> list[Session]:
    parts = [Session(), Session(), Session()]
    for stream in (RAW_STREAM, DERIVED_STREAM):
        messages = [m for m in session.messages if m.stream == stream]
        size = len(messages) // 3 + 1
        for index, part in enumerate(parts):
            part.messages += messages[index * size : (index + 1) * size]
    return parts


@pytest.mark.slow
async def test_sink_health_reports_ok_degraded_and_down_as_its_servers_come_and_go(
    tmp_path: Path,
) -> None:
    nats = nats_server(tmp_path / "nats")
    clickhouse = clickhouse_server(tmp_path / "clickhouse")
    await asyncio.gather(asyncio.to_thread(nats.start), asyncio.to_thread(clickhouse.start))
    nats_port = int(nats.url.rsplit(":", 1)[1])
    clickhouse_port = int(clickhouse.url.rsplit(":", 1)[1])
    health_port = free_port()
    env = {
        **os.environ, "NATS_URL": nats.url, "CLICKHOUSE_URL": clickhouse.url,
        "CLICKHOUSE_DATABASE": "flowtape", "FLOWTAPE_DATA_DIR": str(tmp_path / "data"),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # unused by the sink; keeps it off embedded ones
    }  # fmt: skip
    sink = start_sink(env, health_port)
    before, during, later = thirds(build_session(prints=900))
    try:
        status, body = await health_when(health_port, lambda b: b["status"] == "ok", sink, 90)
        assert status == 200 and set(body["streams"]) == {RAW_STREAM, DERIVED_STREAM}
        bus = await Bus.connect(nats.url)
        try:
            await publish(bus, before)
            stored = before.messages
            status, body = await health_when(
                health_port,
                lambda b: b["lastCycle"] is not None
                and sum(s["position"] for s in b["streams"].values()) == len(stored),
                sink, 60,
            )  # fmt: skip
            assert (status, body["status"], body["backlogSize"]) == (200, "ok", 0)

            await asyncio.to_thread(clickhouse.stop)
            await publish(bus, during)
            status, body = await health_when(
                health_port, lambda b: b["status"] == "degraded" and b["backlogSize"] > 0, sink, 60
            )
            assert status == 503 and body["waitingForClickHouse"]
            assert body["errors"]["count"] > 0 and body["errors"]["last"]
            first_backlog = body["backlogSize"]
            await publish(bus, later)
            status, body = await health_when(
                health_port, lambda b: b["backlogSize"] >= first_backlog + len(later.messages),
                sink, 60,
            )  # fmt: skip
            assert (status, body["status"]) == (503, "degraded")  # growing, and said so

            restarted = clickhouse_server(tmp_path / "clickhouse", port=clickhouse_port)
            await asyncio.to_thread(restarted.start)
            clickhouse = restarted
            status, body = await health_when(
                health_port, lambda b: b["status"] == "ok" and b["backlogSize"] == 0, sink, 90
            )
            assert status == 200 and not body["waitingForClickHouse"]
        finally:
            await bus.close()

        await asyncio.to_thread(nats.stop)
        status, body = await health_when(health_port, lambda b: b["status"] == "down", sink, 30)
        assert status == 503
        nats = nats_server(tmp_path / "nats", port=nats_port)
        await asyncio.to_thread(nats.start)
        status, body = await health_when(health_port, lambda b: b["status"] == "ok", sink, 30)
        assert status == 200
    finally:
        sink.terminate()
        sink.communicate(timeout=30)
        await asyncio.gather(asyncio.to_thread(nats.stop), asyncio.to_thread(clickhouse.stop))
