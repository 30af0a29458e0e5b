"""`flowtape ingest` and its ID bridge settings: a bad one fails in one line before any
server starts; a good one runs the bridge as configured, its counters on /health and
/metrics."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from infra.bus import Bus
from infra.embedded import free_port
from tests.conftest import Servers
from tests.integration.ingest.test_id_bridge_service import read_metrics
from tests.kit.health import read_health
from tests.kit.ingest_process import ingest_refused


@pytest.mark.parametrize("source", [["--source", "synthetic"], ["--source", "bybit"]])
def test_a_malformed_overrides_file_fails_the_command_in_one_line(
    tmp_path: Path, source: list[str]
) -> None:
    (tmp_path / "ids.toml").write_text('[[override]]\nsource = "synthetic"\nid = "1@2026-01-05"\n')
    (tmp_path / ".env").write_text(f"FLOWTAPE_ID_OVERRIDES={tmp_path / 'ids.toml'}\n")
    assert ingest_refused([*source, "--symbols", "BTCUSDT"], tmp_path) == [
        f"error: [id_overrides] {tmp_path / 'ids.toml'}: entry 1: expected the fields source, "
        "id, symbol, got ['id', 'source']"
    ]


def test_an_unknown_bridge_mode_fails_the_command_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FLOWTAPE_ID_BRIDGE_MODE=lenient\n")
    assert ingest_refused(["--source", "synthetic"], tmp_path) == [
        "error: [config] expected an id bridge mode among default, strict, shadow, got 'lenient'"
    ]


async def health_once_serving(port: int) -> dict[str, Any]:
    """The process's /health once it answers and has taken events (it starts servers and
    generates its market first)."""
    async with asyncio.timeout(60):
        while True:
            try:
                _, body = await asyncio.to_thread(read_health, port)
            except OSError:  # not listening yet
                body = {}
            if body.get("events"):
                return body
            await asyncio.sleep(0.1)


@pytest.mark.slow
async def test_the_command_runs_its_bridge_as_configured_and_serves_its_metrics(
    servers: Servers, bus: Bus, tmp_path: Path
) -> None:
    overrides = tmp_path / "ids.json"
    overrides.write_text('{"override": [{"source": "ibkr", "id": "1", "symbol": "X"}]}')
    env = {
        **os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path),
        "FLOWTAPE_ID_BRIDGE_MODE": "shadow", "FLOWTAPE_ID_OVERRIDES": str(overrides),
    }  # fmt: skip
    port = free_port()
    args = ["--source", "synthetic", "--minutes", "5", "--speed", "1", "--health-port", str(port)]
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "ingest", *args, cwd=tmp_path, env=env,
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        body = await health_once_serving(port)
        metrics = await asyncio.to_thread(read_metrics, port)
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, stderr.decode()
    bridge = body["idBridge"]
    assert bridge["mode"] == "shadow" and bridge["overrides"]["path"] == str(overrides)
    assert bridge["sources"]["synthetic"]["idSpace"] == "databento"
    assert 'flowtape_id_bridge_mode{mode="shadow"} 1' in metrics
    assert 'flowtape_id_bridge_unmapped_total{id_space="databento",source="synthetic"} 0' in (
        metrics
    )
