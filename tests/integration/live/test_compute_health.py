"""`flowtape compute --health-port`: down while it cannot restore (Redis away at start),
degraded while far behind RAW and while Redis is away (its lag growing in plain sight), down
while NATS is away, and ok again after each returns; watermark and late events as fed."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import msgspec
import pytest

from infra.bus import Bus
from infra.embedded import free_port, nats_server, redis_server
from ingest.memory import IterableSource
from ingest.service import IngestConfig, IngestService
from schemas.events import EquityQuote, Event
from tests.integration.live.sessions import session_events
from tests.integration.live.test_sink_health import health_when

LATENESS_MS = 3_600_000  # a fast replay through the log spans minutes of event time
MAX_LAG = 20


async def publish_raw(nats_url: str, events: list[Event], batch_size: int) -> int:
    """Publish through the ingest service (small batches: many RAW messages); RAW's last
    sequence after."""
    bus = await Bus.connect(nats_url)
    try:
        await bus.ensure_streams()
        config = IngestConfig(batch_size=batch_size, flush_interval_s=0.001)
        await IngestService(IterableSource("synthetic", events), bus, config).run()
        return await bus.last_sequence("RAW")
    finally:
        await bus.close()


def start_compute(env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`flowtape compute`, one RAW message per step (a backlog takes a while)."""
    argv = [sys.executable, "-m", "cli.main", "compute", "--batch-messages", "1"]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603  (this interpreter)


def iso(ns: int) -> str:
    moment = datetime.fromtimestamp(ns // 1_000_000 / 1000, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.slow
async def test_compute_health_reports_down_degraded_and_ok_as_redis_nats_and_lag_come_and_go(
    tmp_path: Path,
) -> None:
    nats, redis = nats_server(tmp_path / "nats"), redis_server(tmp_path / "redis")
    await asyncio.to_thread(nats.start)
    nats_port, redis_port = int(nats.url.rsplit(":", 1)[1]), int(redis.url.split(":")[2][:-2])
    events = session_events(seed=21)
    first, rest = events[: len(events) // 2], events[len(events) // 2 :]
    last_seq = await publish_raw(nats.url, first, batch_size=8)
    assert last_seq > 10 * MAX_LAG  # a backlog it takes a while to work through
    health_port = free_port()
    env = {
        **os.environ, "NATS_URL": nats.url, "REDIS_URL": redis.url,
        "FLOWTAPE_DATA_DIR": str(tmp_path / "data"), "ALLOWED_LATENESS_MS": str(LATENESS_MS),
        "FLOWTAPE_COMPUTE_HEALTH_PORT": str(health_port),
        "FLOWTAPE_COMPUTE_MAX_LAG_MESSAGES": str(MAX_LAG),
    }  # fmt: skip
    compute = start_compute(env)
    try:
        # Redis is not running: it cannot restore its checkpoint, so it reads nothing
        status, body = await health_when(
            health_port, lambda b: b["errors"]["count"] > 0, compute, 60
        )
        assert (status, body["status"], body["lastCycle"]) == (503, "down", None)
        assert "redis unreachable" in body["errors"]["last"] and body["waitingForRedis"]

        await asyncio.to_thread(redis.start)  # it restores, then works through the backlog
        status, body = await health_when(health_port, lambda b: b["status"] != "down", compute, 60)
        assert (status, body["status"]) == (503, "degraded")
        assert body["lag"] > MAX_LAG and body["rawLastSeq"] == last_seq
        # caught up, and checkpointed (within a second of its last batch)
        status, body = await health_when(
            health_port, lambda b: b["lag"] == 0 and b["lastCheckpoint"], compute, 120
        )
        assert (status, body["status"], body["position"]) == (200, "ok", last_seq)
        assert body["watermark"] == iso(max(e.ts_recv for e in first) - LATENESS_MS * 10**6)
        assert body["lateEvents"] == 0 and body["lastCheckpoint"] and body["lastCycle"]
        assert not body["waitingForRedis"]

        await asyncio.to_thread(redis.stop)  # checkpoints fail: it holds its place
        quote = next(e for e in first if isinstance(e, EquityQuote))
        late = msgspec.structs.replace(  # another source's, two hours behind the watermark
            quote, source="late", ts_recv=quote.ts_recv - 2 * LATENESS_MS * 10**6
        )
        last_seq = await publish_raw(nats.url, [*rest, late], batch_size=2_000)
        status, body = await health_when(
            health_port, lambda b: b["waitingForRedis"] and b["rawLastSeq"] == last_seq,
            compute, 60,
        )  # fmt: skip
        assert (status, body["status"]) == (503, "degraded")
        stuck = body["position"]
        assert body["lag"] == last_seq - stuck > 0 and "redis" in body["errors"]["last"]

        redis = redis_server(tmp_path / "redis", port=redis_port)
        await asyncio.to_thread(redis.start)
        status, body = await health_when(health_port, lambda b: b["lag"] == 0, compute, 60)
        assert (status, body["status"], body["position"]) == (200, "ok", last_seq)
        assert body["lateEvents"] == 1  # the quote from another source, behind the watermark
        assert body["watermark"] == iso(max(e.ts_recv for e in events) - LATENESS_MS * 10**6)

        await asyncio.to_thread(nats.stop)
        status, body = await health_when(health_port, lambda b: b["status"] == "down", compute, 30)
        assert status == 503
        nats = nats_server(tmp_path / "nats", port=nats_port)
        await asyncio.to_thread(nats.start)
        status, body = await health_when(health_port, lambda b: b["status"] == "ok", compute, 30)
        assert status == 200 and body["position"] == last_seq
    finally:
        compute.terminate()
        compute.communicate(timeout=30)
        await asyncio.gather(asyncio.to_thread(nats.stop), asyncio.to_thread(redis.stop))
