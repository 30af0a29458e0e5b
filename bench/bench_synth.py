"""Synthetic market throughput: generation and DBN-write rates.

.venv/bin/python bench/bench_synth.py                 # ~1 M option prints
.venv/bin/python bench/bench_synth.py --prints 5000000 --minutes 390
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
from pathlib import Path

from ingest.synthetic.source import SyntheticSource
from synth import big_config, generate_session, write_session


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prints", type=int, default=1_000_000, help="background option prints")
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="keep the files here")
    parser.add_argument(
        "--source-events",
        type=int,
        default=300_000,
        help="events to pull through SyntheticSource at speed 0 (0 = skip)",
    )
    args = parser.parse_args()

    config = big_config(seed=args.seed, option_prints=args.prints, minutes=args.minutes)
    started = time.perf_counter()
    session = generate_session(config)
    generated = time.perf_counter() - started
    records = sum(len(f.records) for f in session.files.values())
    prints = len(session.file("OPRA.PILLAR", "trades").records)
    quotes = len(session.file("OPRA.PILLAR", "cmbp-1").records)
    print(f"config: {args.minutes} min, {config.n_underlyings} underlyings, seed {args.seed}")
    print(
        f"generate: {prints:,} option prints, {quotes:,} NBBO changes, {records:,} records "
        f"in {generated:.2f} s = {prints / generated:,.0f} option prints/s, "
        f"{records / generated:,.0f} records/s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        out = args.out or Path(tmp)
        started = time.perf_counter()
        paths = write_session(session, out)
        written = time.perf_counter() - started
        size = sum(p.stat().st_size for p in paths)
        raw = sum(f.records.nbytes for f in session.files.values())
        print(
            f"write: {records:,} records, {raw / 1e6:,.0f} MB raw -> {size / 1e6:,.1f} MB zstd "
            f"in {written:.2f} s = {records / written:,.0f} records/s, "
            f"{raw / 1e6 / written:,.0f} MB/s"
        )

    if args.source_events:

        async def pull() -> tuple[int, float]:
            source = SyntheticSource(session=session, speed=0)
            await source.connect()
            n, t0 = 0, time.perf_counter()
            async for _ in source.events():
                n += 1
                if n >= args.source_events:
                    break
            await source.close()
            return n, time.perf_counter() - t0

        n, secs = asyncio.run(pull())
        print(
            f"live source (normalised, canonical order, speed 0): {n:,} events in {secs:.2f} s "
            f"= {n / secs:,.0f} events/s"
        )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
