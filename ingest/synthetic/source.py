"""Live mode: a generated session replayed as a `Source`, paced in (scaled) real time.

Records go through the same `RecordNormaliser` as Databento files and feeds
(`ingest.databento.parsing`), so the synthetic live path and the file replay of the same
session produce the same events.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from typing import Any, Generic, Protocol, TypeVar, cast

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
    return next_session(config, ts_recv, first_record_ns)


Dated = TypeVar("Dated", bound=msgspec.Struct)


def next_session(config: Dated, ts_recv: int, first_record: Callable[[Dated], int]) -> Dated:
    """`session_after` for any session config with a `date` whose first record is received
    at `first_record(config)`."""
    if first_record(config) > ts_recv:
        return config
    day = dt.datetime.fromtimestamp(ts_recv // NS, tz=NEW_YORK).date()
    while True:
        day += dt.timedelta(days=1)
        if day.weekday() >= 5:  # Saturday, Sunday
            continue
        moved = msgspec.structs.replace(config, date=day.isoformat())
        if first_record(moved) > ts_recv:
            return moved


def _normalise(records: Iterable[Any], normaliser: RecordNormaliser) -> Iterator[Event]:
    for record in records:
        yield from normaliser(record)


class _Session(Protocol):
    @property
    def open_ns(self) -> int: ...


C = TypeVar("C", bound=msgspec.Struct)
S = TypeVar("S", bound=_Session)


class PacedSessionSource(Generic[C, S]):
    """A generated session as a live source (a subclass says how its market is generated,
    when its first record comes and which events its live files give).

    `speed` scales session time to wall time (1 = real time, 60 = a minute per second,
    0 = as fast as possible). Reference data before the open (definitions, open interest)
    is released at once; pacing starts at the first second of the session. Told where the
    log stands (`resume_after`), it moves to the next session day (`next_session`), so a
    restarted live market continues instead of replaying what the log already holds.
    """

    name: str
    emit_books = False  # futures' depth as book events (`RecordNormaliser`)

    def __init__(self, config: C, *, session: S | None = None, speed: float = 1.0) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0, got {speed}")
        self.config = config
        self.speed = speed
        self.session = session
        self.normaliser = RecordNormaliser(self.name, emit_books=self.emit_books)
        self._closed = False
        self.pacing_started: float | None = None  # event-loop time the session's open maps to
        self.behind_s = 0.0  # the most an event came after its paced time (a busy machine)

    def generate(self, config: C) -> S:
        raise NotImplementedError

    def first_record_ns(self, config: C) -> int:
        raise NotImplementedError

    def session_events(self, session: S) -> Iterator[Event]:
        raise NotImplementedError

    def resume_after(self, ts_recv: int) -> None:
        """Start after `ts_recv`, the newest event time of this source on the log."""
        config = next_session(self.config, ts_recv, self.first_record_ns)
        if config is not self.config:
            self.config, self.session = config, None

    async def connect(self) -> None:
        """Generate the session (in a thread of its own: it takes a moment for big configs)."""
        self._closed = False
        if self.session is None:
            config = self.config
            self.session = await in_daemon_thread(lambda: self.generate(config))

    async def close(self) -> None:
        """Stop the event stream at the next event."""
        self._closed = True

    async def events(self) -> AsyncIterator[Event]:
        """Normalised events in canonical order, paced by their `ts_recv`."""
        if self.session is None:
            await self.connect()
        session = self.session
        assert session is not None  # noqa: S101  (connect() set it)
        events = self.session_events(session)
        self.pacing_started = asyncio.get_running_loop().time()
        async for event in paced(
            events,
            session.open_ns,
            self.speed,
            lambda: self._closed,
            self.pacing_started,
            self._fell_behind,
        ):
            yield event

    def _fell_behind(self, seconds: float) -> None:
        self.behind_s = max(self.behind_s, seconds)


R = TypeVar("R")


async def in_daemon_thread(work: Callable[[], R]) -> R:
    """`work()` in a daemon thread. Unlike `asyncio.to_thread`, whose pool the event loop
    waits for when it closes, a stop does not wait for it: a service told to stop while it
    generates a big session exits at once, and the thread's result is dropped."""
    loop = asyncio.get_running_loop()
    done: asyncio.Future[R] = loop.create_future()

    def settle(result: R | None, error: BaseException | None) -> None:
        if done.done():  # the wait was cancelled
            return
        if error is not None:
            done.set_exception(error)
        else:
            done.set_result(cast(R, result))

    def run() -> None:
        result: R | None = None
        error: BaseException | None = None
        try:
            result = work()
        except BaseException as exc:
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=run, name="synthetic-session", daemon=True).start()
    return await done


class SyntheticSource(PacedSessionSource[SynthConfig, SyntheticSession]):
    """The synthetic options and equities market as a live source (`PacedSessionSource`)."""

    name = "synthetic"

    def __init__(
        self,
        config: SynthConfig | None = None,
        *,
        session: SyntheticSession | None = None,
        speed: float = 1.0,
    ) -> None:
        config = config or (session.config if session else SynthConfig())
        super().__init__(config, session=session, speed=speed)

    def generate(self, config: SynthConfig) -> SyntheticSession:
        return generate_session(config)

    def first_record_ns(self, config: SynthConfig) -> int:
        return first_record_ns(config)

    def session_events(self, session: SyntheticSession) -> Iterator[Event]:
        return session_events(session, self.normaliser)


async def paced(
    events: Iterable[Event],
    open_ns: int,
    speed: float,
    closed: Callable[[], bool],
    start_wall: float,
    fell_behind: Callable[[float], None],
) -> AsyncIterator[Event]:
    """`events` as a live session: those after `open_ns` when their `ts_recv` comes, session
    time scaled by `speed` (0: flat out) from `start_wall` (event-loop time); ends early once
    `closed()`. An event due in the past is told to `fell_behind` (how late, in seconds)."""
    loop = asyncio.get_running_loop()
    emitted = 0
    for event in events:
        if closed():
            return
        ts_recv = event.ts_recv
        if speed > 0 and ts_recv > open_ns:
            due = (ts_recv - open_ns) / 1e9 / speed
            delay = due - (loop.time() - start_wall)
            if delay > 0:
                await asyncio.sleep(delay)
            else:
                fell_behind(-delay)
        elif emitted % 1024 == 0:
            await asyncio.sleep(0)  # let other tasks run while replaying flat out
        emitted += 1
        yield event
