"""Empty RAW and DERIVED streams for a test, on the session's shared nats-server."""

from __future__ import annotations

import asyncio

from nats.js.errors import NotFoundError, ServerError

from infra.bus import Bus
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

# After deleting a stream, nats-server removes its account's `streams` folder in the
# background once that folder is empty; a stream created in that moment fails with
# "error creating store for stream" (10049), because the folder vanished under its mkdir.
# Asking again once the removal is done succeeds.
STORE_RACE_ATTEMPTS = 20
STORE_RACE_PAUSE_S = 0.1


async def reset_streams(bus: Bus) -> None:
    """Delete RAW and DERIVED (if present) and create them again, empty."""
    for stream in (RAW_STREAM, DERIVED_STREAM):
        try:
            await bus.js.delete_stream(stream)
        except NotFoundError:
            pass
    for attempt in range(1, STORE_RACE_ATTEMPTS + 1):
        try:
            await bus.ensure_streams(duplicate_window_s=120.0)
            return
        except ServerError:
            if attempt == STORE_RACE_ATTEMPTS:
                raise
            await asyncio.sleep(STORE_RACE_PAUSE_S)
