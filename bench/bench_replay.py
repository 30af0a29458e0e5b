"""End-to-end replay: a synthetic OPRA session (definition + tcbbo) -> engine -> ClickHouse.

Prints, in one run on the same file: the bare DBN decode rate (`DBNStore.to_ndarray`), the
decode + normalise rate (what replay reads), and the end-to-end replay rate in prints/s into
an embedded ClickHouse, with their ratios and where the time goes.

    .venv/bin/python bench/bench_replay.py --prints 5000000
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import tempfile
import time
from pathlib import Path

import databento
from sessions import session_files, timed

from infra.embedded import clickhouse_server
from infra.migrate import migrate
from infra.settings import Settings
from infra.warehouse import Warehouse
from ingest.databento import RecordNormaliser, bulk_file_events, iter_file_events
from replay.driver import replay_events
from replay.sources import dbn_events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prints", type=int, default=5_000_000)
    parser.add_argument("--minutes", type=int, default=390)
    parser.add_argument("--profile", action="store_true", help="profile the replay")
    args = parser.parse_args()
    definition, tcbbo = session_files(args.prints, args.minutes)

    started = time.perf_counter()
    records = len(databento.DBNStore.from_file(tcbbo).to_ndarray())
    decode_rate = timed("bare decode (to_ndarray)", records, time.perf_counter() - started)

    normaliser = RecordNormaliser("databento")
    list(iter_file_events(definition, normaliser=normaliser))
    started = time.perf_counter()
    events = sum(1 for _ in bulk_file_events(tcbbo, normaliser=normaliser))
    normalise_rate = timed("decode + normalise (bulk path)", events, time.perf_counter() - started)

    with tempfile.TemporaryDirectory() as folder:
        server = clickhouse_server(Path(folder) / "clickhouse")
        server.start()
        try:
            warehouse = Warehouse.connect(server.url, "bench")
            migrate(warehouse)
            stream, _ = dbn_events([definition, tcbbo])
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            summary = replay_events(
                stream, run_id="bench", config=Settings().engine_config(), warehouse=warehouse
            )
            if profiler:
                profiler.disable()
            rows = sum(
                int(warehouse.scalar(f"SELECT count() FROM `{t}` WHERE run_id = 'bench'"))  # noqa: S608
                for t in ("option_prints", "print_inference", "flow_packets", "packet_prints")
            )
            warehouse.close()
        finally:
            server.stop()
    replay_rate = timed("replay end to end (prints)", summary.prints, summary.wall_s)
    print(f"{'rows stored (prints, inference, packets)':<42}{rows:>12,}")
    print(f"replay / bare decode   = {replay_rate / decode_rate:.3f}")
    print(f"replay / decode+normalise = {replay_rate / normalise_rate:.3f}")
    print(f"a 10 M print day would take {10_000_000 / replay_rate:.0f} s at this rate")
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
