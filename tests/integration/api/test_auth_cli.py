"""`flowtape api` with keys: no key reaches its logs; key-less mode only on loopback."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from infra.embedded import free_port
from infra.keys import KeyStore
from tests.conftest import Servers

ALL_INTERFACES = "0.0.0.0"  # noqa: S104  (binding there is what must be refused)


def test_keyless_mode_refuses_to_bind_beyond_loopback(tmp_path: Path) -> None:
    env = {**os.environ, "FLOWTAPE_DATA_DIR": str(tmp_path), "API_AUTH": "off"}
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "api", "--host", ALL_INTERFACES],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    [line] = result.stderr.strip().splitlines()
    assert "[config]" in line and "loopback" in line and ALL_INTERFACES in line


async def _use_keys(base: str, ws_url: str, good: str, revoked: str, wrong_scope: str) -> None:
    async with httpx.AsyncClient(base_url=base, timeout=30) as client:
        assert (await client.get("/v1/runs", headers={"X-API-Key": good})).status_code == 200
        bearer = {"Authorization": f"Bearer {good}"}
        assert (await client.post("/v1/sql", json={"sql": "x"}, headers=bearer)).status_code == 403
        for key in (revoked, good[:-2] + "zz"):
            assert (await client.get("/v1/alerts", headers={"X-API-Key": key})).status_code == 401
        sql = {"X-API-Key": wrong_scope}
        assert (await client.get("/v1/runs", headers=sql)).status_code == 403
    async with connect(ws_url) as ws:
        await ws.send(json.dumps({"action": "auth", "key": good}))
        await ws.send(json.dumps({"action": "ping"}))
        assert json.loads(await ws.recv())["event"] == "pong"


def test_keys_never_appear_in_the_api_logs(servers: Servers, tmp_path: Path) -> None:
    store = KeyStore(tmp_path)
    _, good = store.create(["read"])
    revoked_record, revoked = store.create(["read"])
    store.revoke(revoked_record.key_id)
    _, wrong_scope = store.create(["sql"])
    port = free_port()
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path),
           "CLICKHOUSE_DATABASE": "api_keys_logs", "API_PORT": str(port),
           "API_AUTH": "keys"}  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "api", "--log-level", "debug"], cwd=tmp_path, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
                break
            except httpx.TransportError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(process.communicate()[0]) from None
                time.sleep(0.2)
        asyncio.run(
            _use_keys(
                f"http://127.0.0.1:{port}",
                f"ws://127.0.0.1:{port}/v1/ws",
                good,
                revoked,
                wrong_scope,
            )  # fmt: skip
        )
    finally:
        process.send_signal(signal.SIGTERM)
        logs = process.communicate(timeout=30)[0]
    # The access log and the frame log were on, and they are what was searched.
    assert "GET /v1/runs" in logs and "< TEXT [" in logs
    for key in (good, revoked, wrong_scope):
        secret = key.split("_", 2)[2]  # ftk_<id>_<secret>; the secret may hold "_"
        pieces = {secret[i : i + 10] for i in range(len(secret) - 9)}
        assert [p for p in pieces if p in logs] == [], key
