"""Providers -> queue -> JetStream -> ClickHouse, its HTTP, and its ordered shutdown."""

import asyncio
import json
import os
import signal
from collections import Counter
from collections.abc import Callable

import aiohttp
from nats.aio.msg import Msg

from infra.bus import Bus
from infra.warehouse import TABLES, Warehouse
from ingest.binance.adapter import BinanceSource
from ingest.bybit.adapter import BybitSource
from ingest.bybit.config import BybitConfig
from ingest.marketdata.http import serve
from ingest.marketdata.service import MarketDataConfig, MarketDataService
from live.sink.config import SinkConfig
from live.sink.service import Sink
from schemas.crypto import CRYPTO_RAW_EVENTS, ProviderGap
from schemas.events import Event
from schemas.subjects import RAW_STREAM
from tests.integration.ingest.crypto.test_binance_source import SPOT, SPOT_REST, config, servers
from tests.kit.crypto_frames import frames
from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply
from tests.unit.ingest.bybit.test_parsing import FIXTURE, expected_counts


async def log_events(bus: Bus, stream: str = RAW_STREAM) -> list[Event]:
    reader = await bus.reader(stream, start_seq=1)
    out: list[Event] = []
    try:
        while batch := await reader.fetch(256, timeout_s=0.5):
            for message in batch:
                out.extend(message.events)
    finally:
        await reader.close()
    return out


async def wait_for(condition: Callable[[], bool], timeout_s: float = 30.0) -> None:
    async with asyncio.timeout(timeout_s):
        while not condition():  # noqa: ASYNC110  (the condition is the service's counters)
            await asyncio.sleep(0.02)


async def test_two_providers_reach_the_log_and_clickhouse_and_answer_over_http(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    player, depth = await servers(SPOT, SPOT_REST, [Plan()])
    bybit = FramePlayer([f.raw for f in frames(FIXTURE)], reply=bybit_reply)
    await bybit.start()
    binance = BinanceSource(config(SPOT, player, depth, silence_s=30.0))
    bybit_source = BybitSource(
        BybitConfig(symbols=["BTCUSDT", "ETHUSDT"], ws_url=bybit.url, silence_s=30.0)
    )
    service = MarketDataService([binance, bybit_source], bus, MarketDataConfig(batch_size=500))
    running = asyncio.create_task(service.run())
    runner = await serve(service, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    bybit_total = sum(expected_counts().values())
    try:
        bybit_counters, binance_counters = (
            bybit_source.normaliser.counters,
            binance.normaliser.counters,
        )
        await wait_for(
            lambda: (
                sum(bybit_counters[k] for k in expected_counts()) == bybit_total
                and binance_counters["CryptoTrade"] == 1910
            )
        )
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with http.get("/health") as response:
                health = await response.json()
                assert response.status == 200 and health["status"] == "ok"
                assert set(health) >= {"status", "uptime", "lastCycle", "errors"}
                assert set(health["providers"]) == {"binance-spot", "bybit-linear"}
            async with http.get("/latest", params={"symbol": "BTC-USDT-PERP"}) as response:
                latest = await response.json()
                assert latest["trade"]["venue"] == "bybit-linear" and "bid_px" in latest["quote"]
            async with http.get("/latest", params={"symbol": "DOGE-USDT"}) as response:
                assert response.status == 404
            async with http.get("/latest") as response:
                assert response.status == 400
            async with http.get("/metrics") as response:
                text = await response.text()
                line = 'flowtape_md_events_total{provider="binance-spot",type="CryptoTrade",'
                assert f'{line}symbol="BTC-USDT"}} 1227' in text
                assert 'flowtape_md_latency_ms_bucket{le="+Inf"}' in text
            async with http.get("/bus-stats") as response:
                stats = await response.json()
                assert stats["capacity"] == 100_000 and stats["state"] == "ok"
                assert stats["dropped"] == {}
    finally:
        service.stop()
        await running
        await runner.cleanup()
        await player.stop()
        await depth.stop()
        await bybit.stop()
    stored = await log_events(bus)
    assert len(stored) == service.metrics.published_events == service.queue.offered
    counts = Counter(type(e).__name__ for e in stored if e.source == "bybit-linear")
    assert counts == expected_counts()
    binance_events = [e for e in stored if e.source == "binance-spot"]
    assert sum(type(e).__name__ == "CryptoTrade" for e in binance_events) == 1910
    seen = sum(
        n for (provider, _, _), n in service.metrics.events.items() if provider == "binance-spot"
    )
    assert len(binance_events) == seen
    await Sink(bus, fresh_warehouse, config=SinkConfig(batch_wait_s=0.2)).run_until_idle()
    for event_type in CRYPTO_RAW_EVENTS:
        expected = sum(type(e) is event_type for e in stored)
        table = TABLES[event_type]
        assert fresh_warehouse.scalar(f"SELECT count() FROM {table}") == expected, table  # noqa: S608


async def test_sigterm_mid_stream_loses_nothing_the_queue_accepted(bus: Bus) -> None:
    bybit = FramePlayer(
        [f.raw for f in frames(FIXTURE)] * 1, [Plan(pause_every=5, pause_s=0.005)], bybit_reply
    )
    await bybit.start()
    source = BybitSource(BybitConfig(symbols=["BTCUSDT", "ETHUSDT"], ws_url=bybit.url))
    service = MarketDataService([source], bus, MarketDataConfig(queue_capacity=40, batch_size=8))
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, service.stop)
    try:
        running = asyncio.create_task(service.run())
        await wait_for(lambda: service.queue.offered >= 150)
        os.kill(os.getpid(), signal.SIGTERM)
        await asyncio.wait_for(running, 30)
    finally:
        loop.remove_signal_handler(signal.SIGTERM)
        await bybit.stop()
    stored = await log_events(bus)
    gaps = [e for e in stored if isinstance(e, ProviderGap)]
    dropped = sum(service.queue.dropped.values())
    assert service.phase == "stopped"
    assert service.queue.offered < sum(expected_counts().values())  # stopped mid-stream
    assert len(stored) - len(gaps) == service.queue.offered - dropped
    assert sum(sum(g.dropped.values()) for g in gaps) == dropped
    assert len(stored) == service.metrics.published_events


async def test_the_market_data_schema_subjects_carry_trades_quotes_and_books(bus: Bus) -> None:
    received: Counter[str] = Counter()

    async def on_message(message: Msg) -> None:
        kind, symbol = message.subject.split(".")[2:4]
        received[f"{kind}.{symbol}"] += 1
        assert json.loads(message.data)["symbol"] == symbol

    subscription = await bus.nc.subscribe("md.events.>", queue="consumers", cb=on_message)
    bybit = FramePlayer([f.raw for f in frames(FIXTURE)], reply=bybit_reply)
    await bybit.start()
    source = BybitSource(BybitConfig(symbols=["BTCUSDT", "ETHUSDT"], ws_url=bybit.url))
    service = MarketDataService([source], bus, MarketDataConfig(md_subjects=True))
    running = asyncio.create_task(service.run())
    expected = expected_counts()
    wanted = expected["CryptoTrade"] + expected["CryptoQuote"] + expected["BookUpdate"]
    try:
        await wait_for(lambda: sum(received.values()) >= wanted)
    finally:
        service.stop()
        await running
        await subscription.unsubscribe()
        await bybit.stop()
    assert (
        received["trade.BTC-USDT-PERP"] + received["trade.ETH-USDT-PERP"] == expected["CryptoTrade"]
    )
    assert sum(v for k, v in received.items() if k.startswith("book.")) == expected["BookUpdate"]
    assert sum(v for k, v in received.items() if k.startswith("quote.")) == expected["CryptoQuote"]
