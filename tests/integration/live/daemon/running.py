"""A daemon running inside the test's event loop on a real JetStream, and its inputs."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from compute.candles import Market
from infra.bus import Bus
from live.daemon.config import DaemonSettings
from live.daemon.server import DaemonServer
from live.daemon.service import Daemon
from schemas.events import EquityPrint, EquityQuote, Event
from schemas.subjects import RAW_STREAM, raw_subject
from tests.kit.events import equity_print, equity_quote

MIN = 60_000_000_000
T0 = 1_700_000_040 * 10**9  # 2023-11-14 22:14 UTC, a whole minute


@asynccontextmanager
async def running_daemon(
    bus: Bus, socket_path: Path, *, start_seq: int = 1, market: Market | None = None,
    seeded: dict[type[Event], int] | None = None, **settings: Any,
) -> AsyncIterator[Daemon]:  # fmt: skip
    config = DaemonSettings(seed=False, socket_path=socket_path, **settings)
    market = market or Market(config.buffers())
    daemon = Daemon(bus, DaemonServer(market, config, socket_path), start_seq=start_seq,
                    fetch_messages=config.fetch_messages, seeded=seeded)  # fmt: skip
    task = asyncio.create_task(daemon.run())
    await asyncio.wait_for(daemon.ready.wait(), 30)
    try:
        yield daemon
    finally:
        daemon.stop()
        await asyncio.wait_for(task, 30)


async def publish(bus: Bus, events: Sequence[Event]) -> int:
    """Publish prints and quotes as ingest does (one message per type); the last sequence."""
    last = 0
    for kind in (EquityQuote, EquityPrint):
        group = [e for e in events if type(e) is kind]
        if group:
            last = max(await bus.publish(raw_subject(kind, "databento"), group, run_id="live"))
    return last


async def caught_up(daemon: Daemon, bus: Bus, timeout_s: float = 20.0) -> None:
    target = await bus.last_sequence(RAW_STREAM)
    deadline = time.monotonic() + timeout_s
    while daemon.metrics.position < target:
        if time.monotonic() > deadline:
            raise AssertionError(f"daemon at {daemon.metrics.position}, RAW at {target}")
        await asyncio.sleep(0.01)


def prints(rows: Sequence[tuple[int, int, int, str]], symbol: str = "AAPL") -> list[EquityPrint]:
    """(offset ns from T0, price, size, Databento side) rows as AAPL prints."""
    return [
        equity_print(ts_recv=T0 + dt, ts_event=T0 + dt - 100, sequence=i + 1, price=price,
                     size=size, side=side, symbol=symbol)
        for i, (dt, price, size, side) in enumerate(rows)
    ]  # fmt: skip


def quote(bid: int, ask: int, ts: int = 0, symbol: str = "AAPL") -> EquityQuote:
    return equity_quote(ts_recv=T0 + ts, ts_event=T0 + ts, bid_px=bid, ask_px=ask, bid_sz=3,
                        ask_sz=4, symbol=symbol)  # fmt: skip
