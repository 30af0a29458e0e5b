"""Stopping background tasks for certain."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

RECANCEL_AFTER_S = 0.1


async def cancel_and_wait(tasks: Iterable[asyncio.Task[object] | None]) -> None:
    """Cancel `tasks` and return once every one has ended, whatever it raised.

    On Python 3.11 `asyncio.wait_for` loses a cancel that lands as its inner future completes
    (nats-py waits for every acknowledgement and pull that way), and a reading loop would
    then go on; so the cancel is repeated until the task ends.
    """
    pending = {task for task in tasks if task is not None}
    while pending:
        for task in pending:
            task.cancel()
        ended, pending = await asyncio.wait(pending, timeout=RECANCEL_AFTER_S)
        for task in ended:
            if not task.cancelled():
                task.exception()  # retrieved: the task is over, whatever it raised
