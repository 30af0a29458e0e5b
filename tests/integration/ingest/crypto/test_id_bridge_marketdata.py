"""The ID bridge in the market-data service: a recorded Binance session from a loopback venue,
an operator's override renaming one venue symbol; RAW, /health and /metrics agree."""

from __future__ import annotations

import asyncio
from collections import Counter
from pathlib import Path

import aiohttp

from infra.bus import Bus
from ingest.binance.adapter import BinanceSource
from ingest.bridge import ID_MISMATCH, UNMAPPED_ID
from ingest.marketdata.http import serve
from ingest.marketdata.service import MarketDataConfig, MarketDataService
from schemas.crypto import CryptoMarketEvent, CryptoTrade
from schemas.events import Quarantined
from tests.integration.ingest.crypto.test_binance_source import SPOT, SPOT_REST, config, servers
from tests.integration.ingest.crypto.test_marketdata_service import log_events, wait_for
from tests.kit.crypto_servers import Plan

ID_REASONS = (UNMAPPED_ID, ID_MISMATCH)
BTC_TRADES = 1227  # BTCUSDT trades in the recording (the market-data service test's count)


async def test_an_overridden_venue_symbol_is_renamed_on_raw_and_counted(
    bus: Bus, tmp_path: Path
) -> None:
    overrides = tmp_path / "id-overrides.toml"
    overrides.write_text(
        '[[override]]\nsource = "binance-spot"\nid = "binance-spot:BTCUSDT"\nsymbol = "XBT-USDT"\n'
    )
    player, depth = await servers(SPOT, SPOT_REST, [Plan()])
    binance = BinanceSource(config(SPOT, player, depth, silence_s=30.0))
    service = MarketDataService(
        [binance], bus, MarketDataConfig(batch_size=500, id_overrides=overrides)
    )
    task = asyncio.create_task(service.run())
    runner = await serve(service, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    try:
        await wait_for(lambda: binance.normaliser.counters["CryptoTrade"] == 1910)
        await wait_for(lambda: service.queue.idle)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/health") as response:
                health = await response.json()
            async with http.get("/metrics") as response:
                metrics = await response.text()
    finally:
        service.stop()
        await task
        await runner.cleanup()
        await player.stop()
        await depth.stop()
    stored = [e for e in await log_events(bus) if e.source == "binance-spot"]
    market = [e for e in stored if isinstance(e, CryptoMarketEvent)]
    by_venue_symbol = Counter((e.venue_symbol, e.symbol) for e in market)
    btc = sum(n for (venue_symbol, _), n in by_venue_symbol.items() if venue_symbol == "BTCUSDT")
    assert by_venue_symbol[("BTCUSDT", "XBT-USDT")] == btc > BTC_TRADES  # trades, books, quotes
    assert by_venue_symbol[("ETHUSDT", "ETH-USDT")] > 0
    assert {symbol for _, symbol in by_venue_symbol} == {"XBT-USDT", "ETH-USDT", "DOT-USDT"}
    btc_trades = [e for e in market if isinstance(e, CryptoTrade) and e.venue_symbol == "BTCUSDT"]
    assert len(btc_trades) == BTC_TRADES
    assert not [e for e in stored if isinstance(e, Quarantined) and e.reason in ID_REASONS]

    counts = health["idBridge"]["sources"]["binance-spot"]
    assert (counts["idSpace"], counts["renamed"], counts["unmapped"]) == ("venue", btc, 0)
    assert health["idBridge"]["overrides"]["active"] == 1
    assert f'flowtape_id_bridge_renamed_total{{id_space="venue",source="binance-spot"}} {btc}' in (
        metrics
    )
    trades = 'flowtape_md_events_total{provider="binance-spot",type="CryptoTrade",'
    assert f'{trades}symbol="XBT-USDT"}} {BTC_TRADES}' in metrics
