"""Small synthetic sessions as raw events, read back from their DBN files."""

from __future__ import annotations

import atexit
import shutil
from functools import cache
from pathlib import Path
from tempfile import mkdtemp

from replay.sources import dbn_events
from schemas.events import Event
from synth import SynthConfig, generate_session, write_session
from synth.config import Profile


@cache
def session_files(
    seed: int, minutes: int = 2, underlyings: int = 6, profile: Profile = "standard"
) -> tuple[Path, ...]:
    config = SynthConfig(seed=seed, minutes=minutes, n_underlyings=underlyings, profile=profile)
    folder = Path(mkdtemp(prefix=f"flowtape-synth-{profile}-{seed}-"))
    atexit.register(shutil.rmtree, folder, ignore_errors=True)  # kept for the whole test run
    return tuple(sorted(write_session(generate_session(config), folder)))


def dbn_files(
    seed: int,
    minutes: int = 2,
    underlyings: int = 6,
    profile: Profile = "standard",
    leave_out: tuple[str, ...] = (),
) -> list[Path]:
    """The session's DBN files but those of the schemas in `leave_out` (e.g. "tcbbo", so
    option prints come from `trades` and meet their NBBO in `cmbp-1`)."""
    return [
        p
        for p in session_files(seed, minutes, underlyings, profile)
        if p.suffix == ".zst" and not any(p.name.endswith(f".{s}.dbn.zst") for s in leave_out)
    ]


def session_events(
    seed: int,
    minutes: int = 2,
    underlyings: int = 6,
    profile: Profile = "standard",
    leave_out: tuple[str, ...] = (),
) -> list[Event]:
    events, _ = dbn_events(dbn_files(seed, minutes, underlyings, profile, leave_out))
    return list(events)
