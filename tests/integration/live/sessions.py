"""Small synthetic sessions as raw events, read back from their DBN files."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from tempfile import mkdtemp

from replay.sources import dbn_events
from schemas.events import Event
from synth import SynthConfig, generate_session, write_session


@cache
def session_files(seed: int, minutes: int = 2, underlyings: int = 6) -> tuple[Path, ...]:
    config = SynthConfig(seed=seed, minutes=minutes, n_underlyings=underlyings)
    folder = Path(mkdtemp(prefix=f"flowtape-synth-{seed}-"))
    return tuple(sorted(write_session(generate_session(config), folder)))


def session_events(seed: int, minutes: int = 2, underlyings: int = 6) -> list[Event]:
    files = [p for p in session_files(seed, minutes, underlyings) if p.suffix == ".zst"]
    events, _ = dbn_events(files)
    return list(events)
