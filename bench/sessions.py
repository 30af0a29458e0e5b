"""Synthetic OPRA sessions (definition + tcbbo DBN files) shared by the benchmarks, cached."""

from __future__ import annotations

import time
from pathlib import Path

from synth import big_config, generate_session, write_session

CACHE = Path(".flowtape/bench")


def session_files(prints: int, minutes: int, *, wide: bool = False) -> tuple[Path, Path]:
    """(definition, tcbbo) files of a session of about `prints` option prints over `minutes`
    (`wide`: on about 306,000 contracts, `synth.big_config`)."""
    folder = CACHE / f"opra-{prints}-{minutes}{'-wide' if wide else ''}"
    wanted = ("definition", "tcbbo")
    found = [next(folder.glob(f"opra-pillar-*.{s}.dbn.zst"), None) for s in wanted]
    if not all(found):
        started = time.perf_counter()
        session = generate_session(
            big_config(seed=7, option_prints=prints, minutes=minutes, wide=wide)
        )
        paths = write_session(session, folder)
        took = time.perf_counter() - started
        print(f"generated the session in {took:.1f} s (cached in {folder})")
        found = [next(p for p in paths if p.name.endswith(f".{s}.dbn.zst")) for s in wanted]
    definition, tcbbo = found
    assert definition is not None and tcbbo is not None
    return definition, tcbbo


def timed(label: str, count: int, seconds: float) -> float:
    """Print and return a rate."""
    rate = count / seconds
    print(f"{label:<42}{count:>12,} in {seconds:7.2f} s = {rate:>12,.0f} /s")
    return rate
