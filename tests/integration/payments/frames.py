"""Alpha frames played onto DERIVED as the engine would publish them, stamped with the wall
clock (`ts_recv`) so a subscriber can measure each frame's delay."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

from infra.bus import Bus
from infra.tasks import cancel_and_wait
from schemas.cme import AlphaFrame
from schemas.subjects import derived_subject

ALPHA_SUBJECT = derived_subject(AlphaFrame)


def alpha_frame(root: str, ts_ns: int, n: int) -> AlphaFrame:
    return AlphaFrame(
        ts_recv=ts_ns, run_id="live", frame_id=f"{root}-{n}", root=root,
        front_symbol=f"{root}M7", cme_fwd_mid=70_000_000_000 + n, atm_iv=0.31, rr25=-0.012,
        iv_term_slope=0.004, skew_signal=-0.2, signed_flow_10=n, trades_10=n, imb_5=0.1,
        book_levels=5, funding=None, health="ok", health_reason="", expiries=[],
    )  # fmt: skip


@asynccontextmanager
async def playing(bus: Bus, roots: Sequence[str], hz: float) -> AsyncIterator[list[AlphaFrame]]:
    """Publish one frame per root every 1/hz seconds until the block ends; yields the list
    of frames published so far."""
    published: list[AlphaFrame] = []

    async def play() -> None:
        n = 0
        while True:
            n += 1
            for root in roots:
                frame = alpha_frame(root, time.time_ns(), n)
                await bus.publish(ALPHA_SUBJECT, [frame], run_id="live")
                published.append(frame)
            await asyncio.sleep(1.0 / hz)

    task = asyncio.create_task(play())
    try:
        yield published
    finally:
        await cancel_and_wait([task])
