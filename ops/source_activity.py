"""When each source last put market data on the log: the newest RAW message of any of its
subjects (`flow.raw.<type>.<source>`, with a partition token when partitioned) but the ones
that carry no market data (heartbeats, gaps, provider switches, quarantined input), by the
time JetStream stored it.

Read from JetStream rather than from the ingest service's `/health`, so a source is judged
by what reached the log whatever became of its process, and a recorded session paced into
the log (its own event dates) is judged by when its data arrived.
"""

from __future__ import annotations

import asyncio
import logging

import nats
import nats.errors
import nats.js.errors

from infra.bus import Bus
from schemas.crypto import ProviderGap, ProviderHeartbeat, ProviderSwitch
from schemas.events import Gap, Heartbeat, Quarantined, event_tag
from schemas.subjects import RAW_STREAM

log = logging.getLogger("flowtape.monitor")

NOT_MARKET_DATA = frozenset(
    event_tag(t)
    for t in (Heartbeat, Gap, Quarantined, ProviderHeartbeat, ProviderGap, ProviderSwitch)
)


class SourceActivity:
    """Reads the log for the last market data of each source; connects on first use and
    again after a failed connection (the client reconnects by itself once connected)."""

    def __init__(self, nats_url: str, *, timeout_s: float = 5.0) -> None:
        self.nats_url = nats_url
        self.timeout_s = timeout_s
        self._bus: Bus | None = None

    async def last_data(self, sources: list[str]) -> dict[str, float | None] | None:
        """Epoch seconds of each source's newest market-data message (None: it has none on
        the log); None when the log cannot be read now."""
        try:
            async with asyncio.timeout(self.timeout_s):
                bus = await self._connected()
                return {source: await self._last(bus, source) for source in sources}
        except (nats.errors.Error, TimeoutError, OSError) as exc:
            log.warning("the log cannot be read for source activity: %r", exc)
            return None

    async def _connected(self) -> Bus:
        if self._bus is None:
            nc = await nats.connect(
                self.nats_url, name="flowtape-monitor", max_reconnect_attempts=-1,
                reconnect_time_wait=0.5, allow_reconnect=True,
            )  # fmt: skip
            self._bus = Bus(nc, nc.jetstream(timeout=self.timeout_s))
        return self._bus

    @staticmethod
    async def _last(bus: Bus, source: str) -> float | None:
        found: list[str] = []
        # partitioned live compute adds a partition token: `flow.raw.<type>.<source>.p<k>`
        for pattern in (f"flow.raw.*.{source}", f"flow.raw.*.{source}.*"):
            try:
                info = await bus.js.stream_info(RAW_STREAM, subjects_filter=pattern)
            except nats.js.errors.NotFoundError:
                return None  # no RAW stream yet: nothing from anyone
            found.extend(info.state.subjects or {})
        subjects = [s for s in found if s.split(".")[2] not in NOT_MARKET_DATA]
        newest: float | None = None
        for subject in subjects:
            message = await bus.js.get_last_msg(RAW_STREAM, subject)
            if message.time is not None:
                stored = message.time.timestamp()
                newest = stored if newest is None else max(newest, stored)
        return newest

    async def close(self) -> None:
        if self._bus is not None:
            await self._bus.nc.close()
            self._bus = None
