"""The market-data service as a process: the bus, signal handling and its HTTP."""

from __future__ import annotations

import asyncio
import signal

from infra.bus import Bus
from ingest.marketdata.http import serve
from ingest.marketdata.service import MarketDataConfig, MarketDataService
from ingest.source import Source


async def run_market_data(
    sources: list[Source], nats_url: str, config: MarketDataConfig, http_port: int
) -> MarketDataService:
    """Run the service until SIGINT/SIGTERM, with its HTTP on 127.0.0.1:`http_port`."""
    bus = await Bus.connect(nats_url, name="flowtape-marketdata")
    try:
        await bus.ensure_streams()
        service = MarketDataService(sources, bus, config)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, service.stop)
        runner = await serve(service, "127.0.0.1", http_port)
        try:
            await service.run()
        finally:
            await runner.cleanup()
    finally:
        await bus.close()
    return service
