"""`flowtape ingest --source alpaca-stocks --symbols AAPL,MSFT` as a process: keys from the
environment, trades and quotes on the log, the secret nowhere in its output."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from infra.bus import Bus
from schemas.events import EquityPrint, EquityQuote, Quarantined
from tests.conftest import Servers
from tests.integration.cli.test_ingest_crypto_command import free_port
from tests.integration.ingest.alpaca.test_alpaca_stocks import (
    AAPL_TRADE,
    KEY,
    MSFT_QUOTE,
    MSFT_TRADE,
    SECRET,
)
from tests.integration.ingest.crypto.test_marketdata_service import log_events
from tests.kit.alpaca_stock_server import AlpacaStockServer
from tests.kit.ingest_process import ingest_refused, ingest_until


@pytest.mark.slow
async def test_the_command_streams_trades_and_quotes_with_the_settings_keys(
    servers: Servers, bus: Bus, tmp_path: Path
) -> None:
    frames = [json.dumps([AAPL_TRADE, MSFT_QUOTE]), "garbage", json.dumps([MSFT_TRADE])]
    server = AlpacaStockServer(KEY, SECRET, frames)
    await server.start()
    port = free_port()
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(tmp_path),
           "ALPACA_API_KEY": KEY, "ALPACA_SECRET_KEY": SECRET}  # fmt: skip
    args = ["--source", "alpaca-stocks", "--symbols", "AAPL,MSFT", "--ws-url", server.url]
    try:
        code, stdout, stderr = await ingest_until(
            args, env, tmp_path, port, lambda stats: stats["published_events"] >= 4
        )
    finally:
        await server.stop()
    assert code == 0, stderr
    assert SECRET not in stdout + stderr
    stored = await log_events(bus)
    assert [type(e) for e in stored if not isinstance(e, Quarantined)].count(EquityPrint) == 2
    assert sum(isinstance(e, EquityQuote) for e in stored) == 1
    (bad,) = [e for e in stored if isinstance(e, Quarantined)]
    assert bad.reason == "malformed_json" and bad.source == "alpaca-stocks-iex"


def test_a_malformed_ticker_fails_the_command_in_one_line(tmp_path: Path) -> None:
    assert ingest_refused(["--source", "alpaca-stocks", "--symbols", "AAPL,BTC/USD"], tmp_path) == [
        "error: [unknown_symbol] alpaca-iex symbol 'BTC/USD' is not a stock ticker like "
        "'AAPL' or 'BRK.B'"
    ]
