"""`flowtape record --health-port`: ok once it writes files, degraded while NATS is away,
ok again when NATS returns."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

from infra.bus import Bus
from infra.embedded import free_port, nats_server
from tests.integration.live.recorder.session import publish_session, session_messages
from tests.integration.live.test_sink_health import health_when


def start_recorder(nats_url: str, out: Path, health_port: int) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NATS_URL": nats_url, "FLOWTAPE_DATA_DIR": str(out.parent)}
    argv = [sys.executable, "-m", "cli.main", "record", "--out", str(out),
            "--rotate-seconds", "0.2", "--health-port", str(health_port)]  # fmt: skip
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603  (this interpreter)


async def test_record_health_follows_its_files_and_its_log(tmp_path: Path) -> None:
    server = nats_server(tmp_path / "nats")
    await asyncio.to_thread(server.start)
    nats_port = int(server.url.rsplit(":", 1)[1])
    bus = await Bus.connect(server.url, timeout_s=1.0)
    await bus.ensure_streams()
    last = await publish_session(bus, session_messages(seed=3, messages=20))
    await bus.close()
    port = free_port()
    recorder = start_recorder(server.url, tmp_path / "recording", port)
    try:
        code, body = await health_when(
            port, lambda b: b["position"] == last and b["files"] > 0 and b["pendingRows"] == 0,
            recorder, 60,
        )  # fmt: skip
        assert (code, body["status"]) == (200, "ok") and body["lastCycle"] is not None
        await asyncio.to_thread(server.stop)
        code, body = await health_when(port, lambda b: b["status"] == "degraded", recorder, 30)
        assert code == 503
        server = nats_server(tmp_path / "nats", port=nats_port)
        await asyncio.to_thread(server.start)
        code, body = await health_when(port, lambda b: b["status"] == "ok", recorder, 30)
        assert code == 200
    finally:
        recorder.terminate()
        recorder.communicate(timeout=30)
        await asyncio.to_thread(server.stop)
