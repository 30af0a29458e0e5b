"""Live mode: a generated session replayed as a `Source`, paced in (scaled) real time.

Records go through the same `RecordNormaliser` as Databento files and feeds
(`ingest.databento.parsing`), so the synthetic live path and the file replay of the same
session produce the same events.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

from ingest.databento.parsing import RecordNormaliser
from ingest.merge import canonical_stream, merge_canonical
from schemas.events import Event
from synth.config import SynthConfig
from synth.session import SyntheticSession, generate_session

# The files a live consumer needs; `trades` and XNAS `tbbo` repeat prints found here.
LIVE_FILES = (
    "OPRA.PILLAR/definition",
    "OPRA.PILLAR/statistics",
    "OPRA.PILLAR/cmbp-1",
    "OPRA.PILLAR/tcbbo",
    "XNAS.ITCH/mbp-1",
    "EQUS.PLUS/tbbo",
)


def session_events(session: SyntheticSession, normaliser: RecordNormaliser) -> Iterator[Event]:
    """Every event of the session's live files, in canonical order (no pacing)."""
    files = [session.files[key] for key in LIVE_FILES]
    for f in files:
        normaliser.add_metadata(f.metadata(session.date))
    streams = [
        canonical_stream(_normalise(f.iter_records(), normaliser), source=normaliser.source)
        for f in files
    ]
    return merge_canonical(streams)


def _normalise(records: Iterable[Any], normaliser: RecordNormaliser) -> Iterator[Event]:
    for record in records:
        yield from normaliser(record)


class SyntheticSource:
    """A synthetic session as a live source.

    `speed` scales session time to wall time (1 = real time, 60 = a minute per second,
    0 = as fast as possible). Reference data before the open (definitions, open interest)
    is released at once; pacing starts at the first second of the session.
    """

    name = "synthetic"

    def __init__(
        self,
        config: SynthConfig | None = None,
        *,
        session: SyntheticSession | None = None,
        speed: float = 1.0,
    ) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.config = config or (session.config if session else SynthConfig())
        self.speed = speed
        self.session = session
        self.normaliser = RecordNormaliser(self.name)
        self._closed = False

    async def connect(self) -> None:
        """Generate the session (in a worker thread: it takes a moment for big configs)."""
        self._closed = False
        if self.session is None:
            self.session = await asyncio.to_thread(generate_session, self.config)

    async def close(self) -> None:
        """Stop the event stream at the next event."""
        self._closed = True

    async def events(self) -> AsyncIterator[Event]:
        """Normalised events in canonical order, paced by their `ts_recv`."""
        if self.session is None:
            await self.connect()
        session = self.session
        assert session is not None  # noqa: S101  (connect() set it)
        loop = asyncio.get_running_loop()
        start_wall = loop.time()
        emitted = 0
        for event in session_events(session, self.normaliser):
            if self._closed:
                return
            ts_recv = event.ts_recv
            if self.speed > 0 and ts_recv > session.open_ns:
                due = (ts_recv - session.open_ns) / 1e9 / self.speed
                delay = due - (loop.time() - start_wall)
                if delay > 0:
                    await asyncio.sleep(delay)
            elif emitted % 1024 == 0:
                await asyncio.sleep(0)  # let other tasks run while replaying flat out
            emitted += 1
            yield event
