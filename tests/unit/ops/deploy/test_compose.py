"""docker-compose.yml: each flowtape service with a /health is checked through it, and the
check passes on `ok` only (run here against a real /health server in every status)."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from infra.embedded import free_port
from infra.health import HealthTracker, serve_health

ROOT = Path(__file__).resolve().parents[4]
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
HEALTH_URL = re.compile(r"http://127\.0\.0\.1:(\d+)/health(?!z)")
CHECKED = [name for name, spec in COMPOSE["services"].items() if "healthcheck" in spec]


def health_port_of(service: dict[str, Any]) -> int:
    command = service["command"]
    if command[0] == "api":
        return 8000  # API_PORT's default
    return int(command[command.index("--health-port") + 1])


@pytest.mark.parametrize("name", ["api", "ingest", "sink", "compute", "alpha"])
def test_the_service_is_checked_through_its_own_health_port(name: str) -> None:
    service = COMPOSE["services"][name]
    (url_port,) = HEALTH_URL.findall(" ".join(service["healthcheck"]["test"]))
    assert int(url_port) == health_port_of(service)
    assert service["healthcheck"]["retries"] >= 2


@pytest.mark.parametrize(
    ("name", "unit_or_env"),
    [
        ("sink", "flowtape-sink.service"),
        ("ingest", "ingest-databento-live.env.example"),
        ("compute", "flowtape-compute.service"),
        ("alpha", "flowtape-alpha.service"),
    ],
)
def test_systemd_serves_health_where_compose_checks_it(name: str, unit_or_env: str) -> None:
    text = (ROOT / "ops" / "deploy" / "systemd" / unit_or_env).read_text()
    assert f"--health-port {health_port_of(COMPOSE['services'][name])}" in text


@pytest.mark.parametrize(
    ("status", "healthy"), [("ok", True), ("degraded", False), ("down", False)]
)
async def test_the_compose_check_passes_only_on_ok(status: str, healthy: bool) -> None:
    port = free_port()
    runner = await serve_health(lambda: HealthTracker().report(status), "127.0.0.1", port)
    checked = []
    try:
        for name in CHECKED:
            if not HEALTH_URL.search(" ".join(COMPOSE["services"][name]["healthcheck"]["test"])):
                continue  # a server of its own (ClickHouse, NATS, Redis)
            kind, program, *args = COMPOSE["services"][name]["healthcheck"]["test"]
            assert (kind, program) == ("CMD", "python")
            argv = [
                sys.executable,
                *(HEALTH_URL.sub(f"http://127.0.0.1:{port}/health", a) for a in args),
            ]
            check = await asyncio.to_thread(subprocess.run, argv, capture_output=True, check=False)
            assert (check.returncode == 0) is healthy, (name, check.stderr[-500:])
            checked.append(name)
    finally:
        await runner.cleanup()
    assert sorted(checked) == ["alpha", "api", "compute", "ingest", "sink"]
