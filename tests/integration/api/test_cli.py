"""`flowtape api` as a command: options, and a real run against the test servers."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import typer
from typer.testing import CliRunner

from cli.api import register
from infra.embedded import free_port
from tests.conftest import Servers


def test_register_adds_an_api_command_with_host_and_port() -> None:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        pass

    result = CliRunner().invoke(app, ["api", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0, result.output
    assert "--host" in result.output and "--port" in result.output


def test_the_api_command_serves_until_sigterm(servers: Servers, tmp_path: Path) -> None:
    port = free_port()
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path),
           "CLICKHOUSE_DATABASE": "api_cli", "API_PORT": str(port), "API_AUTH": "off"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[0]) from None
                time.sleep(0.2)
        assert response.status_code == 200, response.text
        # The command applied the migrations, so history answers from an empty database.
        packets = httpx.get(f"http://127.0.0.1:{port}/v1/packets", timeout=10)
        assert packets.status_code == 200 and packets.json()["items"] == []
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=30)[0]
    # uvicorn re-raises the signal once it has shut down cleanly, so -SIGTERM is a clean exit.
    assert process.returncode in (0, -signal.SIGTERM), output
    assert "Application shutdown complete" in output
