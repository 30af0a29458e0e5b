"""The features service checkpointed in Redis: stopped or killed mid-session, the next run
resumes where the checkpoint says, and DERIVED holds each output once, equal to a replay."""

import asyncio
import os
import signal
import sys
import uuid
from pathlib import Path

import aiohttp
import pytest

from compute.features import FeaturesConfig, initial_state, step
from infra.bus import Bus
from live.features.run import features_store
from live.features.service import FeaturesService
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.events import Event
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from tests.conftest import Servers
from tests.integration.cli.test_ingest_crypto_command import free_port
from tests.integration.ingest.crypto.test_marketdata_service import log_events, wait_for
from tests.integration.live.features.test_features_service import (
    CONFIG,
    publish_in_time_slices,
    recorded_events,
)


def assert_a_replay_prefix(
    derived: list[Event], events: list[Event], config: FeaturesConfig = CONFIG, run_id: str = "live"
) -> None:
    """Per type, what DERIVED holds is what a replay of the whole session computes, up to
    the events still waiting in the reorder buffer: nothing twice, nothing skipped."""
    replayed = step(initial_state(config, run_id), events)[1]
    for kind in (CryptoFeatures, CryptoSignal):
        stored = [e for e in derived if isinstance(e, kind)]
        expected = [e for e in replayed if isinstance(e, kind)]
        assert stored == expected[: len(stored)]
        assert len(stored) >= len(expected) * 0.9


async def run_over(service: FeaturesService, events: list[Event]) -> None:
    running = asyncio.create_task(service.run())
    await publish_in_time_slices(service.bus, events)
    await wait_for(lambda: service.counts["events"] == len(events))
    service.stop()
    await running


async def test_a_stopped_service_resumes_from_its_checkpoint(bus: Bus, servers: Servers) -> None:
    events = recorded_events()
    half = len(events) // 2
    store = features_store(servers.redis_url, f"test-{uuid.uuid4().hex[:8]}")
    try:
        await run_over(FeaturesService(bus, CONFIG, store=store), events[:half])
        service = FeaturesService(bus, CONFIG, store=store)
        await run_over(service, events[half:])
        assert service.position == await bus.last_sequence(RAW_STREAM)
    finally:
        await store.clear()
        await store.close()
    derived = await log_events(bus, DERIVED_STREAM)
    assert_a_replay_prefix(derived, events)
    assert any(isinstance(e, CryptoSignal) for e in derived)


async def stats(http: aiohttp.ClientSession) -> dict[str, int]:
    try:
        async with http.get("/stats") as response:
            return dict(await response.json())
    except aiohttp.ClientConnectionError:
        return {"position": -1}


@pytest.mark.slow
async def test_a_killed_process_resumes_and_stores_every_output_once(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    events = recorded_events()
    await publish_in_time_slices(bus, events)
    last = await bus.last_sequence(RAW_STREAM)
    port = free_port()
    run_id = f"kill-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path),
           "FLOWTAPE_RUN_ID": run_id}  # fmt: skip
    command = [sys.executable, "-m", "cli.main", "features", "--http-port", str(port),
               "--emit-ms", "5"]  # fmt: skip
    store = features_store(servers.redis_url, run_id)
    killed_at = []
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            for how, until in ((signal.SIGKILL, 1), (signal.SIGTERM, last)):
                process = await asyncio.create_subprocess_exec(
                    *command, cwd=tmp_path, env=env, stderr=asyncio.subprocess.PIPE
                )
                async with asyncio.timeout(60):
                    while True:
                        position = (await stats(http))["position"]
                        if position >= until:
                            break
                        await asyncio.sleep(0.01)
                process.send_signal(how)
                killed_at.append(position)
                _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        await store.clear()
        await store.close()
    assert killed_at[0] < last, "the kill came after the whole log was read"
    assert process.returncode == 0, stderr.decode()
    config = FeaturesConfig(emit_interval_ns=5_000_000)
    assert_a_replay_prefix(await log_events(bus, DERIVED_STREAM), events, config, run_id)
