"""`flowtape up` with its services: a taken API port, the URLs it prints, quiet request logs,
/health's origins, `status`, and a killed service brought back."""

from __future__ import annotations

import json
import os
import signal
import socket
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from flowtape.client import IpcError, MarketDataClient
from tests.e2e.test_cli_up import flowtape, flowtape_env, interrupt

pytestmark = pytest.mark.slow


@dataclass
class RunningUp:
    folder: Path
    process: subprocess.Popen[str]
    output: list[str]
    taken_port: int

    @property
    def record(self) -> dict[str, object]:
        return json.loads((self.folder / ".flowtape" / "stack.json").read_text())  # type: ignore[no-any-return]

    @property
    def api_url(self) -> str:
        return str(self.record["api_url"])

    def text(self) -> str:
        return "".join(self.output)


def wait_for(condition: Callable[[], bool], what: str, timeout_s: float = 150.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def health_is_200(url: str) -> bool:
    return httpx.get(f"{url}/health", timeout=5).status_code == 200


@pytest.fixture(scope="module")
def running_up(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    folder = tmp_path_factory.mktemp("up")
    with socket.create_server(("127.0.0.1", 0)) as taken:
        taken_port = taken.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "cli.main", "up", "--source-args",
             "--minutes 5 --speed 20 --seed 3"],
            cwd=folder, env={**flowtape_env(folder), "API_PORT": str(taken_port)},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        output: list[str] = []
        assert process.stdout is not None
        reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
        reader.start()
        running = RunningUp(folder, process, output, taken_port)
        try:
            wait_for(lambda: health_is_200(running.api_url), "the API of flowtape up")
            yield running
        finally:
            if process.poll() is None:
                output.append(interrupt(process))
            reader.join(10)


def test_a_taken_api_port_gives_the_api_a_free_port_that_up_prints(running: RunningUp) -> None:
    url = running.api_url
    port = int(url.rsplit(":", 1)[1])
    assert port != running.taken_port
    text = running.text()
    assert f"port {running.taken_port} on 127.0.0.1 is taken; using port {port}" in text
    assert f"web page   {url}/" in text and f"API docs   {url}/docs" in text
    assert httpx.get(f"{url}/", timeout=10).status_code == 200
    assert httpx.get(f"{url}/docs", timeout=10).status_code == 200


def test_health_reports_the_servers_up_started_as_up(running: RunningUp) -> None:
    components = httpx.get(f"{running.api_url}/health", timeout=10).json()["components"]
    assert {name: c["origin"] for name, c in components.items()} == {
        "nats": "up", "clickhouse": "up", "redis": "up",
    }  # fmt: skip


def test_request_logs_are_quiet_by_default(running: RunningUp) -> None:
    for _ in range(3):
        httpx.get(f"{running.api_url}/health", timeout=10)
    time.sleep(1)
    assert "GET /health" not in running.text()


def test_status_shows_the_api_and_the_services_and_exits_0(running: RunningUp) -> None:
    result = flowtape(running.folder, "status", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["api"] == {"url": running.api_url, "answering": True}
    services = {s["name"]: s for s in report["services"]}
    assert set(services) == {"sink", "compute", "daemon", "ingest", "alpha", "api"}
    assert services["api"]["state"] == "running" and services["api"]["pid"] > 0


def test_a_killed_service_is_reported_restarted_and_serves_again(running: RunningUp) -> None:
    def api_record() -> dict[str, object]:
        services = running.record["services"]
        assert isinstance(services, list)
        return next(s for s in services if s["name"] == "api")

    killed = int(api_record()["pid"])  # type: ignore[call-overload]
    os.kill(killed, signal.SIGKILL)
    wait_for(lambda: api_record()["restarts"] == 1, "the api service to restart", 60)
    wait_for(lambda: health_is_200(running.api_url), "the restarted API", 120)
    text = running.text()
    assert f"service api (pid {killed}) killed by SIGKILL; restarting in 1 s" in text
    assert f"service api restarted (pid {api_record()['pid']})" in text
    assert running.process.poll() is None


@pytest.fixture
def running(running_up: RunningUp) -> RunningUp:
    if running_up.process.poll() is not None:
        raise AssertionError(f"flowtape up exited: {running_up.text()}")
    return running_up


def test_the_daemon_up_runs_answers_on_a_socket_only_its_owner_may_open(
    running: RunningUp,
) -> None:
    path = running.folder / ".flowtape" / "daemon.sock"
    wait_for(path.exists, "the daemon's socket", 60)
    assert stat.S_ISSOCK(path.stat().st_mode) and stat.S_IMODE(path.stat().st_mode) == 0o600
    with MarketDataClient(path) as client, pytest.raises(IpcError) as caught:
        client.get_trades("nowhere", "NONE", 1)
    assert caught.value.code == "not_found"
