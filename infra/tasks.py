"""Stopping background tasks for certain."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

log = logging.getLogger(__name__)


async def cancel_and_wait(
    tasks: Iterable[asyncio.Task[object] | None], *, recancel_after_s: float = 2.0
) -> None:
    """Cancel `tasks` and return once every one has ended; what one raised is logged.

    On Python 3.11 `asyncio.wait_for` loses a cancel that lands as its inner future completes
    (nats-py waits for every acknowledgement and pull that way), and a reading loop would
    then go on; so a task still running `recancel_after_s` after its cancel is cancelled
    again (its own clean-up, such as closing a reader, gets that long).
    """
    pending = {task for task in tasks if task is not None}
    while pending:
        for task in pending:
            task.cancel()
        ended, pending = await asyncio.wait(pending, timeout=recancel_after_s)
        for task in ended:
            if not task.cancelled() and (error := task.exception()) is not None:
                log.error("task %s had failed: %r", task.get_name(), error)
