"""`flowtape status`: the servers, the API and the services `flowtape up` recorded, and an
exit status that says whether they answer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from infra.embedded import free_port
from tests.conftest import Servers

EXTERNAL = ("NATS_URL", "REDIS_URL", "CLICKHOUSE_URL")


def status(folder: Path, *args: str, **environment: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in EXTERNAL}
    env.update(FLOWTAPE_DATA_DIR=str(folder / ".flowtape"), **environment)
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "status", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def record_up(folder: Path, servers: Servers, api_url: str) -> None:
    """What a running `flowtape up` writes (this test process stands in for it)."""
    data_dir = folder / ".flowtape"
    data_dir.mkdir()
    (data_dir / "stack.json").write_text(
        json.dumps({
            "owner_pid": os.getpid(),
            "urls": {"nats": servers.nats_url, "redis": servers.redis_url,
                     "clickhouse": servers.clickhouse_url},
            "owned": ["nats", "redis", "clickhouse"],
            "pids": {},
            "api_url": api_url,
            "services": [
                {"name": "sink", "command": "sink", "pid": 11, "state": "running",
                 "restarts": 0},
                {"name": "api", "command": "api --port 1", "pid": 12, "state": "restarting",
                 "restarts": 3},
            ],
        })
    )  # fmt: skip


def test_status_with_nothing_up_exits_1_and_says_so(tmp_path: Path) -> None:
    result = status(tmp_path)
    assert result.returncode == 1
    assert "nothing is up" in result.stderr
    as_json = status(tmp_path, "--json")
    assert as_json.returncode == 1
    report = json.loads(as_json.stdout)
    assert report["api"] is None and report["services"] == []
    assert {c["origin"] for c in report["components"].values()} == {"none"}


def test_status_shows_the_api_url_and_the_services_up_recorded(
    tmp_path: Path, servers: Servers
) -> None:
    api_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    record_up(tmp_path, servers, api_url)
    result = status(tmp_path, "--json")
    report = json.loads(result.stdout)
    assert {c: (r["origin"], r["healthy"]) for c, r in report["components"].items()} == {
        "nats": ("up", True), "redis": ("up", True), "clickhouse": ("up", True),
    }  # fmt: skip
    assert report["api"] == {"url": api_url, "answering": False}
    assert [(s["name"], s["state"], s["restarts"]) for s in report["services"]] == [
        ("sink", "running", 0), ("api", "restarting", 3),
    ]  # fmt: skip
    assert result.returncode == 1 and "not answering: api" in result.stderr

    table = status(tmp_path)
    assert api_url in table.stdout and "restarting" in table.stdout


def test_status_exits_0_when_every_server_answers(tmp_path: Path, servers: Servers) -> None:
    result = status(tmp_path, **servers.environment())
    assert result.returncode == 0, result.stderr
    report = json.loads(status(tmp_path, "--json", **servers.environment()).stdout)
    assert all(c["healthy"] and c["origin"] == "external" for c in report["components"].values())
