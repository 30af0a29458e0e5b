"""The live alpha service on real JetStream, Redis and ClickHouse: a synthetic CME session put
on RAW by the ingest service gives, on DERIVED and in `alpha_frames`, exactly the frames of
the engine run directly and of `flowtape replay` of the same DBN files; a restart from the
Redis checkpoint mid-session loses and repeats nothing."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import Counter
from subprocess import DEVNULL

import aiohttp
import pytest

import compute.flow as flow
from analytics.parity import table_fingerprint
from infra.bus import Bus
from infra.embedded import free_port
from infra.health import health_served
from infra.runs import list_runs
from infra.warehouse import Warehouse
from live.alpha.health import AlphaHealth
from live.alpha.run import alpha_store
from live.alpha.service import AlphaService
from live.sink.service import Sink
from replay.session import ReplayRequest, replay_session
from schemas.cme import AlphaFrame
from tests.conftest import Servers
from tests.integration.live.alpha.session import (
    CONFIG,
    LATENESS_NS,
    CmeFiles,
    cme_files,
    engine_frames,
    publish,
)
from tests.integration.live.test_compute_service import derived

SECOND = 10**9


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> CmeFiles:
    return cme_files(tmp_path_factory.mktemp("cme"))


async def test_live_frames_equal_the_engine_and_the_stored_replay(
    bus: Bus, servers: Servers, fresh_warehouse: Warehouse, session: CmeFiles
) -> None:
    files = session.paths
    await publish(bus, files)
    store = alpha_store(servers.redis_url, f"t{uuid.uuid4().hex[:8]}")
    service = AlphaService(bus, CONFIG, run_id="live", allowed_lateness_ns=LATENESS_NS, store=store)
    try:
        metrics = await service.run(until_idle=True, finish_session=True)
    finally:
        await store.close()

    expected = engine_frames(files, "live")
    assert await derived(bus) == expected
    assert metrics.frames == len(expected) and metrics.late_events == 0
    # one CL frame per whole second of the session, the close's from `finish`
    market = [f for f in expected if f.ts_recv > session.open_ns]
    seconds = [f.ts_recv for f in market]
    assert seconds == list(range(session.open_ns + SECOND, session.close_ns + SECOND, SECOND))
    assert Counter(f.health for f in market)["ok"] >= 90

    await Sink(bus, fresh_warehouse).run_until_idle()
    request = ReplayRequest(paths=tuple(files))  # what `flowtape replay FILES` asks
    summary = replay_session(
        request, warehouse=fresh_warehouse, redis_url=servers.redis_url,
        config=flow.EngineConfig(), cache_dir=session.paths[0].parent, run_id="again",
        alpha_config=CONFIG,
    )  # fmt: skip
    assert summary.outputs[AlphaFrame.__name__] == len(expected)
    assert [(run["run_id"], run["status"]) for run in list_runs(fresh_warehouse)] == [
        ("again", "done")
    ]
    live = table_fingerprint(fresh_warehouse, "alpha_frames", "live")
    assert live == table_fingerprint(fresh_warehouse, "alpha_frames", "again")
    assert live[0] == len(expected)
    for table in ("cme_quotes", "cme_trades", "cme_instruments", "mbp10_events"):
        assert table_fingerprint(fresh_warehouse, table, "live") == table_fingerprint(
            fresh_warehouse, table, "again"
        ), table


async def test_a_restart_from_the_checkpoint_mid_session_repeats_and_loses_nothing(
    bus: Bus, servers: Servers, session: CmeFiles
) -> None:
    files = session.paths
    last_seq = await publish(bus, files)
    store = alpha_store(servers.redis_url, f"t{uuid.uuid4().hex[:8]}")
    first = AlphaService(
        bus, CONFIG, allowed_lateness_ns=LATENESS_NS, store=store, max_batch_messages=2
    )
    port = free_port()
    health = AlphaHealth(first)
    try:
        async with health_served(health.report, port, observe=health.observe):
            running = asyncio.create_task(first.run())
            while first.metrics.position < last_seq // 2 or not first.metrics.frames:  # noqa: ASYNC110  (polling its counters)
                await asyncio.sleep(0.01)
            async with (
                aiohttp.ClientSession() as http,
                http.get(f"http://127.0.0.1:{port}/health") as response,
            ):
                report = await response.json()
            first.stop()
            await running
        healthy = report["lastFrames"]["CL"]["health"] == "ok"
        assert response.status == 200 and report["status"] == ("ok" if healthy else "degraded")
        assert report["framesEmitted"] > 0 and report["position"] > 0
        assert report["lastFrames"]["CL"]["health"] in ("ok", "stale_chain")
        assert report["watermark"] is not None and report["lastCycle"] is not None

        second = AlphaService(bus, CONFIG, allowed_lateness_ns=LATENESS_NS, store=store)
        await second.run(until_idle=True, finish_session=True)
    finally:
        await store.close()
    assert 0 < first.metrics.position < last_seq
    assert await derived(bus) == engine_frames(files, "live")


@pytest.mark.slow  # two processes of the command, each starting up
async def test_kill_9_mid_session_and_restart_gives_the_uninterrupted_frames(
    bus: Bus, servers: Servers, session: CmeFiles
) -> None:
    await publish(bus, session.paths, batch=200)
    run_id = f"live-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, **servers.environment(), "FLOWTAPE_RUN_ID": run_id,
        "ALLOWED_LATENESS_MS": str(LATENESS_NS // 10**6),
    }  # fmt: skip
    command = [sys.executable, "-m", "cli.main", "alpha", "--until-idle", "--finish",
               "--batch-messages", "4", "--rate", str(CONFIG.rate)]  # fmt: skip
    store = alpha_store(servers.redis_url, run_id)
    killed = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL)
    while await bus.last_sequence("DERIVED") < 5:  # noqa: ASYNC110  (polling the stream)
        assert killed.returncode is None, "the service ended before it could be killed"
        await asyncio.sleep(0.01)
    killed.send_signal(signal.SIGKILL)
    await killed.wait()
    checkpoint = await store.load()
    await store.close()
    assert checkpoint is not None and 0 < checkpoint.position < await bus.last_sequence("RAW")

    finished = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL)
    assert await asyncio.wait_for(finished.wait(), 120) == 0
    assert await derived(bus) == engine_frames(session.paths, run_id)
