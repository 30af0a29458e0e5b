"""CME ingest decode rate: a synthetic GLBX.MDP3 session (`synth.cme`: CL definitions, MBP-10
books, trades, MBP-1 of futures and LO options) read back as events, by the record path
(`iter_file_events`) and by the CME column path (`cme_file_events`), both with order-book
events (`emit_books`) and in canonical order.

Usage: .venv/bin/python bench/bench_cme_decode.py [--minutes 10] [--repeat 3]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import databento as db

from ingest.databento import RecordNormaliser, cme_file_events, iter_file_events
from schemas.events import Event
from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig

Reader = Callable[..., Iterator[Event]]


def timed(reader: Reader, paths: Iterable[Path], repeat: int) -> tuple[int, float]:
    """Events read and the best wall time of `repeat` reads."""
    best = float("inf")
    count = 0
    for _ in range(repeat):
        gc.collect()
        started = time.perf_counter()
        count = sum(1 for _ in reader(list(paths), normaliser=RecordNormaliser(emit_books=True)))
        best = min(best, time.perf_counter() - started)
    return count, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_cme_session(generate_cme_session(CmeConfig(seed=1, minutes=args.minutes)), out)
        paths = sorted(out.glob("*.dbn.zst"))
        records = sum(sum(1 for _ in db.DBNStore.from_file(p)) for p in paths)
        print(f"synthetic CME session of {args.minutes} min: {records:,} records")
        for name, reader in (("record path", iter_file_events), ("column path", cme_file_events)):
            events, seconds = timed(reader, paths, args.repeat)
            print(
                f"{name}: {events:,} events in {seconds:.2f} s = {events / seconds:,.0f} events/s"
                f" ({records / seconds:,.0f} records/s)"
            )


if __name__ == "__main__":
    main()
