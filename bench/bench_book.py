"""Book engine throughput: MBO records (and venue events) per second through
`compute.book.step`, engine alone (events decoded beforehand, no bus, no storage).

Two inputs, each repeated until it holds about `--records` MBO records:
- sample: the real CME MBO sample (`GLBX.MDP3/test_data.mbo.dbn.zst`, a snapshot of
  resting orders), read through ingest; repeated, its adds meet their own order ids again;
- synthetic: a CME-shaped session from `synth.book` (snapshot, pre-open, adds, cancels,
  modifies, sweeps with their trade, fill and cancel records, clears); every repetition
  starts with its snapshot's clear, so the book starts afresh.
Also printed: decoding and grouping the synthetic session's MBO DBN file (ingest).

Usage: .venv/bin/python bench/bench_book.py [--records 3000000] [--batch 1000]
"""

from __future__ import annotations

import argparse
import gc
import tempfile
import time
from pathlib import Path

from compute.book import initial_state, step
from ingest.databento import RecordNormaliser, iter_file_events
from schemas.book import BookTrade, MboEvent
from schemas.events import Event
from synth.book import generate_book_session
from synth.book_dbn import write_book_dbn

SAMPLE = (
    Path(__file__).resolve().parents[2] / "shared/data/databento/GLBX.MDP3/test_data.mbo.dbn.zst"
)


def records_of(events: list[Event]) -> int:
    return sum(len(e.records) for e in events if isinstance(e, MboEvent))


def repeated(events: list[Event], records: int) -> list[Event]:
    per_copy = max(records_of(events), 1)
    return events * max(1, records // per_copy)


def through_engine(name: str, events: list[Event], batch: int) -> None:
    state = initial_state()
    trades = 0
    gc.collect()
    started, cpu_started = time.perf_counter(), time.process_time()
    for start in range(0, len(events), batch):
        state, out = step(state, events[start : start + batch])
        trades += sum(1 for e in out if isinstance(e, BookTrade))
    elapsed = time.perf_counter() - started
    cpu = time.process_time() - cpu_started
    records = records_of(events)
    # CPU time as well: on a shared machine the wall clock also counts other people's work.
    print(
        f"{name:>10}: {records:>10,} MBO records in {len(events):>9,} venue events, "
        f"{elapsed:6.2f} s: {records / elapsed:>11,.0f} records/s, "
        f"{len(events) / elapsed:>11,.0f} events/s; per CPU second {records / cpu:>11,.0f} "
        f"records ({trades:,} trades placed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=3_000_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--session-events", type=int, default=20_000)
    args = parser.parse_args()
    gc.set_threshold(100_000, 50, 100)  # as `flowtape` runs (cli.main.tune_gc)

    sample = list(iter_file_events(SAMPLE, normaliser=RecordNormaliser(emit_books=True)))
    through_engine("sample", repeated(sample, args.records), args.batch)

    session = generate_book_session(7, args.session_events)
    synthetic: list[Event] = list(session.mbo)
    through_engine("synthetic", repeated(synthetic, args.records), args.batch)

    with tempfile.TemporaryDirectory() as folder:
        mbo_path, _ = write_book_dbn(session, Path(folder))
        started = time.perf_counter()
        decoded = list(iter_file_events(mbo_path, normaliser=RecordNormaliser(emit_books=True)))
        elapsed = time.perf_counter() - started
    records = records_of(decoded)
    print(
        f"{'ingest':>10}: {records:>10,} MBO records decoded and grouped into "
        f"{len(decoded):,} venue events, {elapsed:6.2f} s: {records / elapsed:>11,.0f} records/s"
    )


if __name__ == "__main__":
    main()
