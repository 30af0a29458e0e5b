"""A stack with an embedded three-node NATS: its services get every seed and R3 streams."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from infra.bus import Bus
from infra.settings import Settings
from infra.stack import Stack, is_healthy
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from tests.conftest import Servers, scratch_warehouse


async def test_a_service_of_a_three_node_stack_creates_streams_on_three_nodes(
    tmp_path: Path, servers: Servers
) -> None:
    settings = Settings(_env_file=None, FLOWTAPE_DATA_DIR=str(tmp_path), NATS_URL="")
    with (
        Stack(settings, needs=("nats",), nats_nodes=3) as stack,
        scratch_warehouse(servers) as warehouse,
    ):
        handed = stack.environment()
        assert len(handed["NATS_URL"].split(",")) == 3
        assert handed["FLOWTAPE_STREAM_REPLICAS"] == "3"
        env = {
            **os.environ,
            **handed,
            "CLICKHOUSE_URL": servers.clickhouse_url,
            "CLICKHOUSE_DATABASE": warehouse.database,
            "FLOWTAPE_DATA_DIR": str(tmp_path),
        }
        sink = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "cli.main", "sink", "--until-idle"],
            env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
        assert sink.returncode == 0, sink.stderr[-2000:]

        bus = await Bus.connect(handed["NATS_URL"])
        try:
            for stream in (RAW_STREAM, DERIVED_STREAM):
                assert (await bus.js.stream_info(stream)).config.num_replicas == 3
        finally:
            await bus.close()
        assert is_healthy("nats", handed["NATS_URL"])
        pids = [server.pid for server in stack.owned]
        assert len(pids) == 3
        stack.owned[0].stop()
        assert is_healthy("nats", handed["NATS_URL"])  # any seed answering will do
    assert not any(_alive(pid) for pid in pids if pid is not None)


def _alive(pid: int) -> bool:
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"
