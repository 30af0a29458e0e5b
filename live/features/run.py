"""The features service as a process: the bus, signal handling and its HTTP."""

from __future__ import annotations

import asyncio
import signal

from compute.features import FeaturesConfig
from infra.bus import Bus
from live.features.http import serve
from live.features.service import FeaturesService


async def run_features(
    nats_url: str, config: FeaturesConfig, *, run_id: str, http_port: int, start_seq: int
) -> FeaturesService:
    """The service with its HTTP on 127.0.0.1:`http_port`, until SIGINT/SIGTERM."""
    bus = await Bus.connect(nats_url, name="flowtape-features")
    try:
        await bus.ensure_streams()
        service = FeaturesService(bus, config, run_id=run_id, start_seq=start_seq)
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
