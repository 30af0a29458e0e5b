"""A small synthetic CME session (`synth.cme`) as GLBX DBN files, put on RAW by the ingest
service, and what the alpha engine makes of the same files run directly."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from compute.alpha import AlphaConfig, finish, initial_state, step
from infra.bus import Bus
from ingest.databento import (
    DatabentoFileConfig,
    DatabentoFileSource,
    RecordNormaliser,
    cme_file_events,
)
from ingest.service import IngestConfig, IngestService
from schemas.cme import AlphaFrame
from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig

# The log carries the session far faster than real time: messages hold a few seconds of
# event time each (`INGEST_BATCH` events), well inside this lateness.
LATENESS_NS = 30 * 10**9
INGEST_BATCH = 1_000
CONFIG = AlphaConfig(rate=CmeConfig().rate)


@dataclass(frozen=True)
class CmeFiles:
    """A session's DBN files (its labels left out) and its open and close (ns)."""

    paths: list[Path]
    open_ns: int
    close_ns: int


def cme_files(folder: Path, seed: int = 5, minutes: int = 2) -> CmeFiles:
    """A session of `minutes` written into `folder`."""
    session = generate_cme_session(CmeConfig(seed=seed, minutes=minutes))
    paths = [p for p in write_cme_session(session, folder) if p.name.endswith(".dbn.zst")]
    return CmeFiles(paths, session.open_ns, session.close_ns)


async def publish(bus: Bus, files: list[Path], batch: int = INGEST_BATCH) -> int:
    """The files on RAW through the ingest service (messages of at most `batch` events);
    returns RAW's last sequence."""
    source = DatabentoFileSource(
        DatabentoFileConfig(paths=[str(p) for p in files], emit_books=True)
    )
    await IngestService(source, bus, IngestConfig(batch_size=batch)).run()
    return await bus.last_sequence("RAW")


@cache
def _engine_frames(files: tuple[Path, ...], run_id: str) -> tuple[AlphaFrame, ...]:
    events = cme_file_events(files, normaliser=RecordNormaliser(emit_books=True))
    state, frames = step(initial_state(CONFIG, run_id), list(events))
    frames += finish(state)[1]
    return tuple(f for f in frames if isinstance(f, AlphaFrame))


def engine_frames(files: list[Path], run_id: str) -> list[AlphaFrame]:
    """The frames of the files run through the engine directly, the session finished."""
    return list(_engine_frames(tuple(files), run_id))
