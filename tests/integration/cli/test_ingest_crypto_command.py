"""`flowtape ingest --source bybit --symbols …` as a process, stopped by SIGTERM."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from infra.bus import Bus
from schemas.crypto import ProviderGap
from tests.conftest import Servers
from tests.integration.ingest.crypto.test_marketdata_service import log_events
from tests.kit.crypto_frames import frames
from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply
from tests.kit.ingest_process import ingest_refused, ingest_until
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
    args = ["--source", "bybit", "--symbols", "BTCUSDT,ETHUSDT", "--ws-url", player.url]
    try:
        code, _, stderr = await ingest_until(
            args, env, tmp_path, port, lambda stats: stats["offered"] >= 100
        )
    finally:
        await player.stop()
    assert code == 0, stderr
    summary = stderr.strip().splitlines()[-1]
    stored = await log_events(bus)
    market = [e for e in stored if not isinstance(e, ProviderGap)]
    assert 100 <= len(market) < sum(expected_counts().values())  # stopped mid-stream
    assert f"{len(stored):,} published" in summary and "0 dropped" in summary


def test_an_unlisted_symbol_fails_the_command_in_one_line_before_connecting(
    tmp_path: Path,
) -> None:
    assert ingest_refused(["--source", "bybit", "--symbols", "BTCUSDT,BTC-USDT"], tmp_path) == [
        "error: [unknown_symbol] bybit-linear symbol 'BTC-USDT' is not in the symbology table; "
        "add it with its base and quote"
    ]
