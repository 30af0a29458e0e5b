"""The alpha service's `/health` through every status it reports, on a real JetStream: `down`
before it reads and once NATS is gone, `degraded` while a root's latest frame says
`stale_chain` (the synthetic session's quiet window), `ok` while every root is healthy."""

from __future__ import annotations

import asyncio

import pytest

from infra.bus import Bus
from live.alpha.health import AlphaHealth
from live.alpha.service import AlphaService
from tests.conftest import Servers
from tests.integration.live.alpha.session import CONFIG, LATENESS_NS, CmeFiles, cme_files, publish


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> CmeFiles:
    return cme_files(tmp_path_factory.mktemp("cme"))


async def test_down_then_ok_and_degraded_as_the_chain_goes_quiet_then_down_without_nats(
    bus: Bus, servers: Servers, session: CmeFiles
) -> None:
    await publish(bus, session.paths)
    service = AlphaService(bus, CONFIG, allowed_lateness_ns=LATENESS_NS, max_batch_messages=1)
    health = AlphaHealth(service)
    assert health.report()["status"] == "down"  # not reading yet

    seen: list[tuple[str, str]] = []
    running = asyncio.create_task(service.run(until_idle=True))
    while not running.done():
        report = health.report()
        if report["status"] != "down" and "CL" in report["lastFrames"]:
            seen.append((report["status"], report["lastFrames"]["CL"]["health"]))
        await asyncio.sleep(0.002)
    await running
    assert {status for status, _ in seen} == {"ok", "degraded"}
    assert all((status == "ok") == (frame == "ok") for status, frame in seen)

    watcher = await Bus.connect(servers.nats_url)
    service = AlphaService(watcher, CONFIG, allowed_lateness_ns=LATENESS_NS)
    health = AlphaHealth(service)
    running = asyncio.create_task(service.run())
    while not service.metrics.reading:  # noqa: ASYNC110  (polling its flag)
        await asyncio.sleep(0.01)
    await watcher.close()
    report = health.report()
    service.stop()
    await asyncio.wait_for(asyncio.gather(running, return_exceptions=True), 30)
    assert report["status"] == "down"
