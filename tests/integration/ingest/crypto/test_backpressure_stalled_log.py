"""The publisher stalls (its NATS server is stopped) while a provider keeps sending: the
queue's policy decides exactly what is kept, and the log says what was not."""

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

from infra.bus import Bus
from infra.embedded import nats_server
from ingest.marketdata.service import MarketDataConfig, MarketDataService
from schemas.crypto import CryptoTrade, ProviderGap, ProviderHeartbeat
from schemas.events import Event
from tests.integration.ingest.crypto.test_marketdata_service import log_events, wait_for
from tests.kit.crypto import crypto_quote, crypto_trade


def trade(n: int) -> CryptoTrade:
    return crypto_trade(ts_recv=n, sequence=n, trade_id=str(n))


def beat(n: int) -> ProviderHeartbeat:
    return ProviderHeartbeat(ts_recv=n, source="binance", synthetic=True, silence_ns=n)


class GatedProvider:
    """Sends its first event, then the rest in one burst once `gate` opens."""

    name = "binance"

    def __init__(self, first: Event, burst: list[Event], gate: asyncio.Event) -> None:
        self.first, self.burst, self.gate = first, burst, gate

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def events(self) -> AsyncIterator[Event]:
        yield self.first
        await self.gate.wait()
        for event in self.burst:
            yield event
        await asyncio.Event().wait()  # a live provider stays open


async def test_a_stalled_publisher_keeps_trades_and_accounts_for_every_drop(
    tmp_path: Path,
) -> None:
    server = nats_server(tmp_path / "nats")
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    bus = await Bus.connect(server.url, timeout_s=1.0)
    await bus.ensure_streams()
    # capacity 10: six trades; two heartbeats fill it to 80 %, the third is shed; quote A1
    # makes 90 %, A2 replaces it (conflated), B1 fills it; then each of five more trades
    # makes room: heartbeats first, then quotes (A2, B1), then the oldest trade (t1).
    burst: list[Event] = [
        *(trade(n) for n in range(1, 7)), beat(20), beat(21), beat(22),
        crypto_quote(ts_recv=30, venue_symbol="A"), crypto_quote(ts_recv=31, venue_symbol="A"),
        crypto_quote(ts_recv=32, venue_symbol="B"), *(trade(n) for n in range(7, 12)),
    ]  # fmt: skip
    gate = asyncio.Event()
    config = MarketDataConfig(queue_capacity=10, batch_size=1, backoff_max_s=0.2)
    service = MarketDataService([GatedProvider(trade(0), burst, gate)], bus, config)
    running = asyncio.create_task(service.run())
    try:
        await wait_for(lambda: service.metrics.published_events == 1)
        server.stop()
        gate.set()
        await wait_for(lambda: service.metrics.publish_failures > 0)
        assert service.health == "degraded"
        health = service.health_report()  # the contract says so, with what failed
        assert health["status"] == "degraded" and health["lastCycle"] is not None
        assert health["errors"]["count"] >= 1 and health["errors"]["last"].startswith("publish")
        assert service.queue.dropped == {
            "provider_heartbeat": 3, "crypto_quote": 3, "crypto_trade": 1,
        }  # fmt: skip
        server = nats_server(tmp_path / "nats", port=port)
        server.start()
        await wait_for(lambda: service.idle)
        service.stop()
        await asyncio.wait_for(running, 30)
        stored = await log_events(bus)
    finally:
        await bus.close()
        server.stop()
    trades = [e.sequence for e in stored if isinstance(e, CryptoTrade)]
    (gap,) = [e for e in stored if isinstance(e, ProviderGap)]
    assert trades == [0, *range(2, 12)]
    assert len(stored) == 1 + 1 + 10
    assert gap.dropped == {"crypto_quote": 3, "crypto_trade": 1, "provider_heartbeat": 3}
    assert (gap.first_ts_recv, gap.last_ts_recv, gap.reason) == (1, 32, "backpressure")
