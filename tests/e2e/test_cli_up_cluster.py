"""`flowtape up --cluster 3`: three NATS nodes, every seed recorded, none left after Ctrl-C."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.e2e.test_cli_up import alive, flowtape, flowtape_env, interrupt

pytestmark = pytest.mark.slow


def test_up_with_a_three_node_cluster_records_every_node_and_stops_them_all(
    tmp_path: Path,
) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--no-services", "--cluster", "3"],
        cwd=tmp_path, env=flowtape_env(tmp_path), stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    state_file = tmp_path / ".flowtape" / "stack.json"
    try:
        deadline = time.monotonic() + 90
        while not state_file.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        state = json.loads(state_file.read_text())
        seeds = state["urls"]["nats"].split(",")
        assert len(seeds) == 3 and len(set(seeds)) == 3
        assert sorted(n for n in state["pids"] if n.startswith("nats")) == [
            "nats-0", "nats-1", "nats-2",
        ]  # fmt: skip
        report = json.loads(flowtape(tmp_path, "status", "--json").stdout)
        assert report["components"]["nats"] == {
            "url": state["urls"]["nats"], "origin": "up", "healthy": True,
        }  # fmt: skip
    finally:
        output = interrupt(process)
    assert "stopping servers" in output
    assert not [name for name, pid in state["pids"].items() if alive(int(pid))]
