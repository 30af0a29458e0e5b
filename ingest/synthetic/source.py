"""Live mode: a generated session replayed as a `Source`, paced in (scaled) real time.

Records go through the same `RecordNormaliser` as Databento files and feeds
(`ingest.databento.parsing`), so the synthetic live path and the file replay of the same
session produce the same events.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import msgspec

from ingest.databento.parsing import RecordNormaliser
from ingest.merge import canonical_stream, merge_canonical
from schemas.events import Event
from synth.config import SynthConfig
from synth.session import SyntheticSession, first_record_ns, generate_session
from synth.universe import NEW_YORK, NS

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


def session_after(config: SynthConfig, ts_recv: int) -> SynthConfig:
    """`config` moved to the next session day after `ts_recv`.

    The rule: `config` itself when its whole session (pre-open reference data included)
    comes after `ts_recv`; otherwise the first weekday after `ts_recv`'s New York date whose
    whole session does. Every event of the new day is then newer than anything before it on
    the log, with its own contracts and definitions.
    """
    if first_record_ns(config) > ts_recv:
        return config
    day = dt.datetime.fromtimestamp(ts_recv // NS, tz=NEW_YORK).date()
    while True:
        day += dt.timedelta(days=1)
        if day.weekday() >= 5:  # Saturday, Sunday
            continue
        moved = msgspec.structs.replace(config, date=day.isoformat())
        if first_record_ns(moved) > ts_recv:
            return moved


def _normalise(records: Iterable[Any], normaliser: RecordNormaliser) -> Iterator[Event]:
    for record in records:
        yield from normaliser(record)


class SyntheticSource:
    """A synthetic session as a live source.

    `speed` scales session time to wall time (1 = real time, 60 = a minute per second,
    0 = as fast as possible). Reference data before the open (definitions, open interest)
    is released at once; pacing starts at the first second of the session. Told where the
    log stands (`resume_after`), it moves to the next session day (`session_after`), so a
    restarted live market continues instead of replaying what the log already holds.
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

    def resume_after(self, ts_recv: int) -> None:
        """Start after `ts_recv`, the newest event time of this source on the log."""
        config = session_after(self.config, ts_recv)
        if config is not self.config:
            self.config, self.session = config, None

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
