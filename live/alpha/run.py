"""The alpha service as a process: the bus, its checkpoints, signal handling and `/health`."""

from __future__ import annotations

import asyncio
import contextlib
import signal

from compute.alpha import AlphaConfig
from infra.bus import Bus
from infra.health import health_served
from infra.state import StateStore
from live.alpha.health import AlphaHealth
from live.alpha.service import AlphaMetrics, AlphaService


def alpha_store(redis_url: str, run_id: str) -> StateStore:
    """The alpha service's checkpoints, beside (never over) the compute service's."""
    return StateStore.connect(redis_url, f"{run_id}:alpha")


async def run_alpha(
    nats_url: str,
    config: AlphaConfig,
    *,
    run_id: str,
    allowed_lateness_ns: int,
    redis_url: str | None,
    health_port: int | None = None,
    until_idle: bool = False,
    finish_session: bool = False,
    batch_messages: int = 64,
    duplicate_window_s: float = 120.0,
) -> AlphaMetrics:
    """The service until SIGINT/SIGTERM (or idle), serving `/health` on
    127.0.0.1:`health_port` when given; checkpointed in Redis when `redis_url` is given."""
    bus = await Bus.connect(nats_url, name="flowtape-alpha")
    store = alpha_store(redis_url, run_id) if redis_url else None
    try:
        await bus.ensure_streams(duplicate_window_s=duplicate_window_s)
        service = AlphaService(
            bus, config, run_id=run_id, allowed_lateness_ns=allowed_lateness_ns, store=store,
            max_batch_messages=batch_messages,
        )  # fmt: skip
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, service.stop)
        health = AlphaHealth(service)
        async with health_served(health.report, health_port, observe=health.observe):
            return await service.run(until_idle=until_idle, finish_session=finish_session)
    finally:
        if store is not None:
            with contextlib.suppress(Exception):
                await store.close()
        await bus.close()
