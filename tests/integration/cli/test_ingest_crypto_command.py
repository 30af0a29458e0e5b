"""`flowtape ingest --source bybit --symbols …` as a process, stopped by SIGTERM."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest

from infra.bus import Bus
from schemas.crypto import ProviderGap
from tests.conftest import Servers
from tests.integration.ingest.crypto.test_marketdata_service import log_events
from tests.kit.crypto_frames import frames
from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply
from tests.unit.ingest.bybit.test_parsing import FIXTURE, expected_counts


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.slow
async def test_sigterm_stops_the_command_after_everything_it_took_is_on_the_log(
    servers: Servers, bus: Bus, tmp_path: Path
) -> None:
    player = FramePlayer(
        [f.raw for f in frames(FIXTURE)], [Plan(pause_every=2, pause_s=0.01)], bybit_reply
    )
    await player.start()
    port = free_port()
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path)}
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "ingest", "--source", "bybit", "--symbols",
        "BTCUSDT,ETHUSDT", "--ws-url", player.url, "--http-port", str(port),
        cwd=tmp_path, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with http.get("/bus-stats") as response:
                            stats = await response.json()
                    except aiohttp.ClientConnectionError:
                        stats = {"offered": 0}
                    if stats["offered"] >= 100:
                        break
                    await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
        await player.stop()
    assert process.returncode == 0, stderr.decode()
    summary = stderr.decode().strip().splitlines()[-1]
    stored = await log_events(bus)
    market = [e for e in stored if not isinstance(e, ProviderGap)]
    assert 100 <= len(market) < sum(expected_counts().values())  # stopped mid-stream
    assert f"{len(stored):,} published" in summary and "0 dropped" in summary


def test_an_unlisted_symbol_fails_the_command_in_one_line_before_connecting(
    tmp_path: Path,
) -> None:
    result = subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "cli.main", "ingest", "--source", "bybit", "--symbols",
         "BTCUSDT,BTC-USDT"],
        cwd=tmp_path, env={**os.environ, "FLOWTAPE_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "error: [unknown_symbol] bybit-linear symbol 'BTC-USDT' is not in the symbology table; "
        "add it with its base and quote"
    ]
