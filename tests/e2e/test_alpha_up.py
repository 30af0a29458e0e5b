"""`flowtape up` on the embedded default runs a synthetic CME market beside the options one:
its alpha frames are computed live, stored and served by `/v1/alpha/CL`, the alpha service
answers `/health`, and `status` lists it."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.test_cli_up import flowtape, flowtape_env, interrupt
from tests.e2e.test_cli_up_services import wait_for

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        return int(sock.getsockname()[1])


@pytest.fixture
def up_folder(tmp_path: Path) -> Iterator[tuple[Path, int, list[str]]]:
    """`flowtape up` running in `tmp_path` (a short, fast options market), the alpha
    service's health port and what `up` prints."""
    health_port = free_port()
    env = {**flowtape_env(tmp_path), "API_PORT": str(free_port()),
           "FLOWTAPE_ALPHA_HEALTH_PORT": str(health_port)}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--source-args", "--minutes 2 --speed 20"],
        cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output: list[str] = []
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        yield tmp_path, health_port, output
    finally:
        if process.poll() is None:
            interrupt(process)
        reader.join(10)


def stored_frames(api_url: str) -> dict[str, Any]:
    response = httpx.get(f"{api_url}/v1/alpha/CL", params={"limit": 500}, timeout=10)
    return response.json() if response.status_code == 200 else {"items": []}  # type: ignore[no-any-return]


def test_up_serves_live_alpha_frames_of_its_synthetic_cme_market(
    up_folder: tuple[Path, int, list[str]],
) -> None:
    folder, health_port, output = up_folder
    record = folder / ".flowtape" / "stack.json"
    wait_for(lambda: bool(json.loads(record.read_text()).get("api_url")), "up's API")
    api_url = json.loads(record.read_text())["api_url"]
    # healthy frames: the chain is fresh once the market opens, a frame a second
    wait_for(
        lambda: sum(f["health"] == "ok" for f in stored_frames(api_url)["items"]) >= 3,
        "healthy alpha frames of CL stored and served",
        240,
    )
    frames = stored_frames(api_url)["items"]
    assert {frame["root"] for frame in frames} == {"CL"}
    ok = [frame for frame in frames if frame["health"] == "ok"]
    assert all(f["atm_iv"] and f["rr25"] is not None and f["cme_fwd_mid"] for f in ok)
    assert len({frame["ts_recv"] for frame in frames}) == len(frames)

    health = httpx.get(f"http://127.0.0.1:{health_port}/health", timeout=10).json()
    assert health["status"] == "ok" and health["framesEmitted"] >= len(ok)
    assert health["lastFrames"]["CL"]["health"] in ("ok", "stale_chain")

    status = flowtape(folder, "status", "--json")
    commands = [service["command"] for service in json.loads(status.stdout)["services"]]
    assert "alpha --rate 0.045" in commands
    assert "ingest --source synthetic-cme --minutes 30" in commands
    assert "restarting" not in "".join(output)  # no service died on the CME events
