"""The sink under faults: killed with SIGKILL mid-batch, and ClickHouse going away."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from infra.bus import Bus
from infra.embedded import clickhouse_server
from infra.migrate import migrate
from infra.warehouse import Warehouse
from live.sink.config import SinkConfig
from live.sink.service import Sink
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from tests.conftest import Servers
from tests.integration.live.session import (
    Session,
    assert_views_match_base_tables,
    build_session,
    digests,
    publish,
    store_reference,
)


def _start_sink(servers: Servers, database: str, data_dir: Path, *extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        **servers.environment(),
        "CLICKHOUSE_DATABASE": database,
        "FLOWTAPE_DATA_DIR": str(data_dir),
    }
    argv = [sys.executable, "-m", "cli.main", "sink", "--batch-rows", "300",
            "--fetch-messages", "4", *extra]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def _wait_for_rows(
    warehouse: Warehouse, table: str, at_least: int, process: subprocess.Popen, timeout_s: float
) -> int:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the sink exited early: {process.stderr.read().decode()[-3000:]}")
        count = int(warehouse.scalar(f"SELECT count() FROM `{table}`") or 0)  # noqa: S608
        if count >= at_least:
            return count
        time.sleep(0.01)
    raise AssertionError(f"{table} did not reach {at_least} rows in {timeout_s}s")


@pytest.mark.slow
async def test_a_sink_killed_mid_batch_and_restarted_stores_every_event_once(
    bus: Bus, servers: Servers, reference: Warehouse, tmp_path: Path
) -> None:
    session = build_session(prints=3000, batch=20)
    await publish(bus, session)
    store_reference(reference, session)
    target = Warehouse.connect(servers.clickhouse_url, f"test_{uuid.uuid4().hex[:12]}")
    migrate(target)
    try:
        kills = 0
        for table, at_least in (("option_prints", 1), ("packet_prints", 1),
                                ("print_inference", 1500)):  # fmt: skip
            process = _start_sink(servers, target.database, tmp_path)
            try:
                _wait_for_rows(target, table, at_least, process, timeout_s=60)
            finally:
                process.send_signal(signal.SIGKILL)
                process.wait(10)
            kills += 1
        finished = _start_sink(servers, target.database, tmp_path, "--until-idle")
        out, err = finished.communicate(timeout=120)
        assert finished.returncode == 0, err.decode()[-2000:]

        assert kills == 3
        final = json.loads(out.decode().strip().splitlines()[-1])
        assert final[RAW_STREAM]["messages"] + final[DERIVED_STREAM]["messages"] > 0
        shared = json.loads((tmp_path / "sink-metrics.json").read_text())["streams"]
        assert shared[RAW_STREAM]["lag"] == 0 and shared[RAW_STREAM]["position"] > 0
        assert digests(target) == digests(reference)
        assert_views_match_base_tables(target)
    finally:
        target.command(f"DROP DATABASE IF EXISTS `{target.database}`")
        target.close()


async def _caught_up(sink: Sink, bus: Bus, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        last = {s: await bus.last_sequence(s) for s in (RAW_STREAM, DERIVED_STREAM)}
        if all(sink.metrics.streams[s].position == last[s] for s in last):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the sink did not catch up: {sink.metrics.as_dict()}")


@pytest.mark.slow
async def test_the_sink_waits_while_clickhouse_is_down_and_catches_up_after(
    bus: Bus, reference: Warehouse, tmp_path: Path
) -> None:
    private = clickhouse_server(tmp_path / "clickhouse")
    private.start()
    port = int(private.url.rsplit(":", 1)[1])
    try:
        target = Warehouse.connect(private.url, "flowtape")
        migrate(target)
        session = build_session(prints=1200)
        before, during = Session(), Session()
        for stream in (RAW_STREAM, DERIVED_STREAM):
            messages = [m for m in session.messages if m.stream == stream]
            before.messages += messages[: len(messages) // 2]
            during.messages += messages[len(messages) // 2 :]
        config = SinkConfig(batch_rows=2000, backoff_initial_s=0.05, backoff_max_s=0.4)
        sink = Sink(bus, target, config=config)
        stop = asyncio.Event()
        running = asyncio.create_task(sink.run(stop))
        try:
            await publish(bus, before)
            await _caught_up(sink, bus, timeout_s=30)

            await asyncio.to_thread(private.stop)
            await publish(bus, during)
            await asyncio.sleep(2.0)
            for stream in (RAW_STREAM, DERIVED_STREAM):
                stalled = sink.metrics.streams[stream]
                assert stalled.waiting_for_clickhouse and stalled.retries > 0, stream
                assert stalled.lag > 0, stream

            private = clickhouse_server(tmp_path / "clickhouse", port=port)
            await asyncio.to_thread(private.start)
            await _caught_up(sink, bus, timeout_s=60)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)

        store_reference(reference, session)
        assert digests(target) == digests(reference)
        assert_views_match_base_tables(target)
        assert not sink.metrics.streams[RAW_STREAM].waiting_for_clickhouse
        target.close()
    finally:
        private.stop()
