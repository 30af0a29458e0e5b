"""`flowtape monitor --config`: its own /health for an uptime check, and a dead service's
alert, once, through the command as an operator runs it; its secrets in no output."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import urllib.request
from pathlib import Path

from infra.embedded import free_port
from tests.integration.ops.test_monitor import SECRET, TOKEN, Receivers, Service


def start_monitor(config: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "HOOK_SECRET": SECRET.decode(), "CHAT_TOKEN": TOKEN}
    argv = [sys.executable, "-m", "cli.main", "monitor", "--config", str(config)]
    return subprocess.Popen(
        argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )  # noqa: S603  (this interpreter)


def read_json(url: str) -> dict[str, object]:
    with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310  (loopback)
        return json.loads(answer.read())  # type: ignore[no-any-return]


async def test_the_command_serves_its_health_and_alerts_once_for_a_dead_service(
    tmp_path: Path,
) -> None:
    service, receivers = Service(), Receivers()
    receiving = await receivers.start()
    await service.start()
    health_port = free_port()
    base = f"http://127.0.0.1:{receivers.port}"
    config = tmp_path / "monitor.toml"
    config.write_text(
        f"poll_every_s = 0.2\nhealth_port = {health_port}\n"
        f'[services]\nsink = "{service.url}"\n'
        f'[webhook]\nurl = "{base}/hook"\nsecret_env = "HOOK_SECRET"\n'
        f'[telegram]\nbase_url = "{base}"\ntoken_env = "CHAT_TOKEN"\nchat_id = "-7"\n'
    )
    monitor = start_monitor(config)
    try:
        async with asyncio.timeout(60):
            while True:
                assert monitor.poll() is None, monitor.communicate()[1][-2000:]
                try:
                    health = await asyncio.to_thread(
                        read_json, f"http://127.0.0.1:{health_port}/health"
                    )
                    if health["lastCycle"] is not None:
                        break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
        assert health["status"] == "ok" and receivers.hooks == []
        await service.kill()
        async with asyncio.timeout(30):
            while not receivers.hooks:  # noqa: ASYNC110  (the receiver's record)
                await asyncio.sleep(0.05)
        await asyncio.sleep(1.0)  # five more polls of the dead service
        health = await asyncio.to_thread(read_json, f"http://127.0.0.1:{health_port}/health")
        assert health["firing"] == ["service_down sink"]
    finally:
        monitor.terminate()
        out, err = await asyncio.to_thread(monitor.communicate, None, 30)
        await receiving.cleanup()
    assert receivers.sent() == [("service_down", "sink", "firing")]
    assert [c["chat_id"] for c in receivers.chats] == ["-7"]
    assert TOKEN not in out + err and SECRET.decode() not in out + err
