"""Synthetic OPRA sessions (definition + tcbbo DBN files) shared by the benchmarks, cached."""

from __future__ import annotations

import time
from pathlib import Path

import msgspec

from synth import big_config, generate_session, write_session

CACHE = Path(".flowtape/bench")


WIDE = {"n_underlyings": 625, "n_expiries": 12, "strikes_per_side": 10}  # 300,000 contracts


def session_files(prints: int, minutes: int, *, wide: bool = False) -> tuple[Path, Path]:
    """(definition, tcbbo) files of a session of about `prints` option prints over `minutes`;
    `wide`: on 300,000 contracts (625 underlyings x 12 expiries x 20 strikes x 2 rights)
    instead of 2,304."""
    folder = CACHE / f"opra-{prints}-{minutes}{'-wide' if wide else ''}"
    wanted = ("definition", "tcbbo")
    found = [next(folder.glob(f"opra-pillar-*.{s}.dbn.zst"), None) for s in wanted]
    if not all(found):
        started = time.perf_counter()
        config = big_config(seed=7, option_prints=prints, minutes=minutes)
        if wide:  # equity traffic per underlying scaled down to the default universe's
            scale = config.n_underlyings / WIDE["n_underlyings"]
            config = msgspec.structs.replace(
                config,
                **WIDE,
                equity_quotes_per_second=config.equity_quotes_per_second * scale,
                equity_prints_per_second=config.equity_prints_per_second * scale,
                dark_prints_per_second=config.dark_prints_per_second * scale,
            )
        session = generate_session(config)
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
