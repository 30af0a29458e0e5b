"""The features service as a process: the bus, its checkpoints, signal handling and HTTP."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from compute.features import FeaturesConfig
from infra.bus import Bus
from infra.state import StateStore
from live.features.http import serve
from live.features.service import FeaturesService


def features_store(redis_url: str, run_id: str) -> StateStore:
    """The features service's checkpoints, beside (never over) the compute service's."""
    return StateStore.connect(redis_url, f"{run_id}:features")


async def run_features(
    nats_url: str,
    config: FeaturesConfig,
    *,
    run_id: str,
    http_port: int,
    start_seq: int,
    redis_url: str | None = None,
    duplicate_window_s: float = 120.0,
) -> FeaturesService:
    """The service with its HTTP on 127.0.0.1:`http_port`, until SIGINT/SIGTERM;
    checkpointed in Redis when `redis_url` is given."""
    bus = await Bus.connect(nats_url, name="flowtape-features")
    store = features_store(redis_url, run_id) if redis_url else None
    try:
        await bus.ensure_streams(duplicate_window_s=duplicate_window_s)
        service = FeaturesService(bus, config, run_id=run_id, start_seq=start_seq, store=store)
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, service.stop)
        runner = await serve(service, "127.0.0.1", http_port)
        try:
            await service.run()
        finally:
            await runner.cleanup()
    finally:
        if store is not None:
            with contextlib.suppress(Exception):
                await store.close()
        await bus.close()
    return service
