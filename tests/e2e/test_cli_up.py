"""`flowtape up` as a person runs it: servers, schema, SQL, Ctrl-C, restart."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from infra.embedded import free_port

pytestmark = pytest.mark.slow

EXTERNAL = ("NATS_URL", "REDIS_URL", "CLICKHOUSE_URL")


def flowtape_env(folder: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    env["FLOWTAPE_DATA_DIR"] = str(folder / ".flowtape")
    return env


def flowtape(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=folder, env=flowtape_env(folder), capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def start_up(folder: Path) -> tuple[subprocess.Popen[str], dict[str, object]]:
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--no-services"],
        cwd=folder, env=flowtape_env(folder), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    state_file = folder / ".flowtape" / "stack.json"
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if state_file.exists() and json.loads(state_file.read_text())["owner_pid"] == process.pid:
            return process, json.loads(state_file.read_text())
        if process.poll() is not None:
            raise AssertionError(f"flowtape up exited: {process.stdout.read()}")  # type: ignore[union-attr]
        time.sleep(0.2)
    process.kill()
    raise AssertionError("flowtape up did not come up within 90 s")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie of ours still "exists"; check its state
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


# `flowtape up` gives its services 20 s and each server 15 s to stop before killing them.
STOP_TIMEOUT_S = 150


def interrupt(process: subprocess.Popen[str]) -> str:
    """Ctrl-C for `flowtape up`: its output once it has stopped. One that does not stop in time
    is killed with everything it started, and the test fails saying so."""
    process.send_signal(signal.SIGINT)
    try:
        output, _ = process.communicate(timeout=STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        tree = psutil.Process(process.pid).children(recursive=True)
        for child in [psutil.Process(process.pid), *tree]:
            with contextlib.suppress(psutil.NoSuchProcess):
                child.kill()
        output, _ = process.communicate(timeout=30)
        raise AssertionError(
            f"flowtape up did not stop within {STOP_TIMEOUT_S} s of Ctrl-C; killed it and "
            f"{len(tree)} processes it started. It said:\n{(output or '')[-3000:]}"
        ) from None
    return output


def test_up_serves_the_schema_and_ctrl_c_leaves_no_server_behind(tmp_path: Path) -> None:
    process, state = start_up(tmp_path)
    try:
        components = json.loads(flowtape(tmp_path, "status", "--json").stdout)["components"]
        assert {c: components[c]["healthy"] for c in components} == {
            "nats": True, "redis": True, "clickhouse": True,
        }  # fmt: skip
        listed = flowtape(
            tmp_path, "sql",
            "SHOW TABLES",  # system tables are not readable without --write
            "--format", "csv",
        )  # fmt: skip
        assert listed.returncode == 0, listed.stderr
        tables = set(listed.stdout.split())
        assert {"option_prints", "flow_packets", "packet_prints", "alerts", "quarantine"} <= tables
    finally:
        output = interrupt(process)
    assert "stopping servers" in output
    pids = state["pids"]
    assert isinstance(pids, dict) and len(pids) == 3
    assert not [name for name, pid in pids.items() if alive(int(pid))]
    assert not (tmp_path / ".flowtape" / "stack.json").exists()


def test_data_survives_a_killed_server_and_a_new_up(tmp_path: Path) -> None:
    process, state = start_up(tmp_path)
    try:
        inserted = flowtape(
            tmp_path, "sql", "--write",
            "INSERT INTO runs (run_id, kind, description, params, status, created_at, "
            "updated_at) VALUES ('kept', 'replay', '', '{}', 'done', now64(3), now64(3))",
        )  # fmt: skip
        assert inserted.returncode == 0, inserted.stderr
        os.kill(int(state["pids"]["clickhouse"]), signal.SIGKILL)  # type: ignore[index]
    finally:
        interrupt(process)
    process, _ = start_up(tmp_path)
    try:
        found = flowtape(tmp_path, "sql", "SELECT run_id FROM runs", "--format", "json")
        assert json.loads(found.stdout) == [{"run_id": "kept"}]
    finally:
        interrupt(process)


def test_a_command_alone_starts_the_servers_it_needs(tmp_path: Path) -> None:
    result = flowtape(tmp_path, "sql", "SELECT 1 + 1 AS two", "--format", "json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == [{"two": 2}]


def test_up_runs_the_live_pipeline_from_the_synthetic_market_into_clickhouse(
    tmp_path: Path,
) -> None:
    api_port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--source-args",
         "--minutes 5 --speed 20 --seed 3"],
        cwd=tmp_path, env={**flowtape_env(tmp_path), "API_PORT": str(api_port), "API_AUTH": "off"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        counts: dict[str, int] = {}
        while time.monotonic() < deadline and min(counts.values(), default=0) == 0:
            time.sleep(2)
            result = flowtape(
                tmp_path, "sql",
                "SELECT (SELECT count() FROM option_prints) AS prints, (SELECT count() FROM "
                "print_inference) AS inferences, (SELECT count() FROM flow_packets) AS packets",
                "--format", "json",
            )  # fmt: skip
            if result.returncode == 0 and result.stdout.strip().startswith("["):
                row = json.loads(result.stdout)[0]
                counts = {k: int(v) for k, v in row.items()}
        assert counts and min(counts.values()) > 0, counts
        health = httpx.get(f"http://127.0.0.1:{api_port}/health", timeout=10)
        assert health.status_code == 200, health.text
        packets = httpx.get(f"http://127.0.0.1:{api_port}/v1/packets?limit=5", timeout=10)
        assert packets.status_code == 200 and packets.json()["count"] > 0
    finally:
        output = interrupt(process)
    assert "service    ingest --source synthetic" in output
    assert "stopping servers" in output
