"""End-to-end replay: a synthetic OPRA session (definition + tcbbo) -> engine -> ClickHouse.

Prints, in one run on the same file: the bare DBN decode rate (`DBNStore.to_ndarray`), the
decode + normalise rate (what replay reads), and the end-to-end replay rate in prints/s into
an embedded ClickHouse, with their ratios and where the time goes: the CPU seconds of flowtape
and of the ClickHouse server, the server's by table inserted and for merges (its query and
part logs), and with --breakdown each stage of flowtape's side alone. Then, into the same
server, the first --slice prints (1 M by default) through the struct engine's path (event
structs, `compute.flow.step`, `tables_for`, an insert per 50,000-event chunk), with the same
figures, for comparison.

    .venv/bin/python bench/bench_replay.py --prints 5000000
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import os
import pstats
import resource
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import databento
from cpu import cpu_seconds
from sessions import session_files, timed

import compute.flow as flow
from infra.embedded import clickhouse_server
from infra.migrate import migrate
from infra.pages import set_huge_pages
from infra.settings import Settings
from infra.warehouse import Warehouse, tables_for
from ingest.databento import RecordNormaliser, bulk_file_events, iter_file_events
from replay.driver import chunks, replay_events, replay_tables, use_system_allocator
from replay.sources import dbn_events, dbn_table_chunks, dbn_tables, underlying_weights
from schemas.events import Event, OptionPrint

CANDLE_VIEWS = ("candles_contract_mv", "candles_underlying_mv", "candles_equity_mv")


def engine_config() -> flow.EngineConfig:
    """The engine's thresholds as `flowtape replay` takes them from the environment."""
    return flow.config_from_settings(Settings().raw_environment(flow.SEED_NAMES))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prints", type=int, default=5_000_000)
    parser.add_argument("--minutes", type=int, default=390)
    parser.add_argument("--profile", action="store_true", help="profile the replay")
    parser.add_argument(
        "--chunk", type=int, default=50_000, help="events per engine batch (with --events)"
    )
    parser.add_argument(
        "--shards", type=int, default=1, help="engine processes (flowtape replay --shards)"
    )
    parser.add_argument(
        "--events",
        action="store_true",
        help="replay through event objects (the path of sharded and windowed replays) "
        "instead of raw Arrow tables",
    )
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the engine alone and the Arrow conversion alone on the same events",
    )
    parser.add_argument(
        "--slice",
        type=int,
        default=1_000_000,
        help="prints replayed through the struct engine's path after the replay (0: none)",
    )
    parser.add_argument(
        "--without-candle-views",
        action="store_true",
        help="drop the 1-minute candle views first: what engine-written partials could save",
    )
    args = parser.parse_args()
    use_system_allocator()  # as `flowtape replay` runs
    definition, tcbbo = session_files(args.prints, args.minutes)

    started = time.perf_counter()
    records = len(databento.DBNStore.from_file(tcbbo).to_ndarray())
    decode_rate = timed("bare decode (to_ndarray)", records, time.perf_counter() - started)

    normaliser = RecordNormaliser("databento")
    list(iter_file_events(definition, normaliser=normaliser))
    started = time.perf_counter()
    events = sum(1 for _ in bulk_file_events(tcbbo, normaliser=normaliser))
    normalise_rate = timed("decode + normalise (bulk path)", events, time.perf_counter() - started)
    started = time.perf_counter()
    tables, _ = dbn_tables([definition, tcbbo])
    rows = sum(table.num_rows for table in tables.values())
    timed("decode + normalise (Arrow tables)", rows, time.perf_counter() - started)
    del tables

    with tempfile.TemporaryDirectory() as folder:
        server = clickhouse_server(Path(folder) / "clickhouse", query_log=True)
        server.start()
        set_huge_pages("off")  # as `flowtape replay` runs: the engines', not ClickHouse's
        try:
            warehouse = Warehouse.connect(server.url, "bench")
            migrate(warehouse)
            if args.without_candle_views:
                for view in CANDLE_VIEWS:
                    warehouse.command(f"DROP VIEW {view}")
            profiler = cProfile.Profile() if args.profile else None
            if profiler:
                profiler.enable()
            assert server.pid is not None
            cpu_before = (cpu_seconds(server.pid), _own_cpu_seconds())
            started = time.perf_counter()
            # balancing the shards reads the files once more: part of the replay's time
            weights = underlying_weights([definition, tcbbo]) if args.shards > 1 else None
            if args.events or args.shards > 1:
                stream, _ = dbn_events([definition, tcbbo])
                summary = replay_events(
                    stream, run_id="bench", config=engine_config(), warehouse=warehouse,
                    shards=args.shards, weights=weights, chunk_size=args.chunk,
                )  # fmt: skip
            else:
                chunks_of_tables, _ = dbn_table_chunks([definition, tcbbo])
                summary = replay_tables(
                    chunks_of_tables, run_id="bench", config=engine_config(), warehouse=warehouse
                )
            replay_s = time.perf_counter() - started
            clickhouse_cpu = cpu_seconds(server.pid) - cpu_before[0]
            python_cpu = _own_cpu_seconds() - cpu_before[1]
            if profiler:
                profiler.disable()
            clickhouse_parts = clickhouse_breakdown(warehouse)
            rows = stored_rows(warehouse, "bench")
            struct_figures = (
                struct_slice(definition, tcbbo, warehouse, server.pid, args.slice)
                if args.slice
                else None
            )
            warehouse.close()
        finally:
            server.stop()
    path = "events" if args.events or args.shards > 1 else "Arrow tables"
    replay_rate = timed(
        f"replay end to end ({path}, prints, {args.shards} engine processes)",
        summary.prints,
        replay_s,
    )
    print(f"{'rows stored (prints, inference, packets, members)':<42}{rows:>12,}")
    print(f"replay / bare decode   = {replay_rate / decode_rate:.3f}")
    print(f"replay / decode+normalise = {replay_rate / normalise_rate:.3f}")
    print(f"a 10 M print day would take {10_000_000 / replay_rate:.0f} s at this rate")
    print(
        f"CPU seconds during the replay: flowtape {python_cpu:.1f} (engine processes "
        f"included), ClickHouse {clickhouse_cpu:.1f}; {os.cpu_count()} cores x wall = "
        f"{(os.cpu_count() or 1) * replay_s:.1f}"
    )
    per_print = 1e6 / max(1, summary.prints)
    print(f"CPU per print: flowtape {python_cpu * per_print:.1f} us, "
          f"ClickHouse {clickhouse_cpu * per_print:.1f} us")  # fmt: skip
    print(f"where ClickHouse's CPU went (of {clickhouse_cpu:.1f} s; an insert includes the views "
          "it feeds):")  # fmt: skip
    for name, seconds in clickhouse_parts:
        print(f"  {name:<52}{seconds:>7.1f} s")
    accounted = sum(seconds for _, seconds in clickhouse_parts)
    print(f"  {'the rest: HTTP, reading Arrow, background work':<52}"
          f"{clickhouse_cpu - accounted:>7.1f} s")  # fmt: skip
    if struct_figures is not None:
        prints, wall_s, flowtape_s, server_s, struct_rows = struct_figures
        struct_rate = timed(
            "struct engine's path, first prints",
            prints,
            wall_s,
        )
        print(f"{'  rows stored (prints, inference, packets, members)':<42}{struct_rows:>12,}")
        print(f"  CPU per print: flowtape {flowtape_s * 1e6 / max(1, prints):.1f} us, "
              f"ClickHouse {server_s * 1e6 / max(1, prints):.1f} us")  # fmt: skip
        print(f"replay ({path}) / struct engine's path = {replay_rate / struct_rate:.2f}")
    if args.breakdown:
        breakdown(definition, tcbbo, replay_s, args.shards)
    if profiler:
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)


def stored_rows(warehouse: Warehouse, run_id: str) -> int:
    """Rows of a run in the print, inference, packet and member tables."""
    return sum(
        int(warehouse.scalar(f"SELECT count() FROM `{t}` WHERE run_id = '{run_id}'"))  # noqa: S608
        for t in ("option_prints", "print_inference", "flow_packets", "packet_prints")
    )


def struct_slice(
    definition: Path, tcbbo: Path, warehouse: Warehouse, server_pid: int, prints: int
) -> tuple[int, float, float, float, int]:
    """(prints, wall s, flowtape CPU s, ClickHouse CPU s, rows stored) of the session's first
    `prints` prints through the struct engine: decoded as event structs, `flow.step` per
    50,000-event chunk, `tables_for` on the chunk and its outputs, each table inserted."""
    run_id = "bench-struct"
    cpu_before = (cpu_seconds(server_pid), _own_cpu_seconds())
    started = time.perf_counter()
    stream, _ = dbn_events([definition, tcbbo])
    seen = 0

    def first_prints() -> Iterator[Event]:
        nonlocal seen
        for event in stream:
            if type(event) is OptionPrint:
                if seen == prints:
                    return
                seen += 1
            yield event

    state = flow.initial_state(engine_config(), run_id)
    for chunk in [*chunks(first_prints(), 50_000), []]:
        state, outputs = flow.step(state, chunk) if chunk else flow.finish(state)
        batch = chunk + outputs
        for table, data in tables_for(batch, run_id=run_id, log_seqs=[0] * len(batch)).items():
            warehouse.insert_arrow(table, data)
    wall_s = time.perf_counter() - started
    server_s = cpu_seconds(server_pid) - cpu_before[0]
    flowtape_s = _own_cpu_seconds() - cpu_before[1]
    return seen, wall_s, flowtape_s, server_s, stored_rows(warehouse, run_id)


def clickhouse_breakdown(warehouse: Warehouse) -> list[tuple[str, float]]:
    """ClickHouse CPU seconds (user + system) of the replay's inserts by table, with the
    materialised views each insert feeds, and of merges, from `system.query_log` and
    `system.part_log`."""
    warehouse.command("SYSTEM FLUSH LOGS")
    inserts = warehouse.rows(
        "SELECT replaceAll(extract(query, 'INSERT INTO\\s+(\\S+)'), '`', '') AS target,"
        " sum(ProfileEvents['UserTimeMicroseconds'] + ProfileEvents['SystemTimeMicroseconds'])"
        " / 1e6 AS seconds FROM system.query_log"
        " WHERE type = 'QueryFinish' AND query_kind = 'Insert' AND has(databases, 'bench')"
        " AND query LIKE '%FORMAT Arrow%'"  # the replay's inserts, not the migrations'
        " GROUP BY target ORDER BY seconds DESC"
    )
    merges = warehouse.scalar(
        "SELECT sum(ProfileEvents['UserTimeMicroseconds']"
        " + ProfileEvents['SystemTimeMicroseconds']) / 1e6"
        " FROM system.part_log WHERE event_type = 'MergeParts' AND database = 'bench'"
    )
    parts = [(f"inserts into {target}", float(seconds)) for target, seconds in inserts]
    return [*parts, ("merges (all tables)", float(merges or 0))]


def _own_cpu_seconds() -> float:
    """This process's CPU time and that of its finished children (a sharded replay's
    engine processes; the ClickHouse server is still running, so not among them)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def breakdown(definition: Path, tcbbo: Path, replay_s: float, shards: int) -> None:
    """Where the replay's time goes: each stage alone, in seconds, on the same events
    (with several engine processes the stages overlap, so no remainder is printed)."""
    collecting = gc.isenabled()
    gc.disable()  # as replay_events does
    try:
        started = time.perf_counter()
        stream, _ = dbn_events([definition, tcbbo])
        events = list(stream)
        decode_s = time.perf_counter() - started
        state = flow.initial_state(engine_config(), "bench")
        engine_s = arrow_s = 0.0
        # Chunk by chunk, each dropped once converted, as in the replay (holding every
        # output until the end would make the engine pay for gigabytes of fresh memory).
        for chunk in [*chunks(events, 50_000), []]:
            started = time.perf_counter()
            state, outputs = flow.step(state, chunk) if chunk else flow.finish(state)
            engine_s += time.perf_counter() - started
            batch = chunk + outputs
            started = time.perf_counter()
            tables_for(batch, run_id="bench", log_seqs=[0] * len(batch))
            arrow_s += time.perf_counter() - started
            del batch, outputs
    finally:
        if collecting:
            gc.enable()
    stages = [
        ("decode + normalise", decode_s),
        ("engine (flow.step)", engine_s),
        ("Arrow conversion (tables_for)", arrow_s),
    ]
    if shards == 1:
        rest_s = replay_s - decode_s - engine_s - arrow_s
        stages.append(("the rest: inserts, ClickHouse, contention", rest_s))
    print("where the replay's time goes (each stage alone, same events):")
    for label, seconds in stages:
        print(f"  {label:<44}{seconds:7.2f} s  {seconds / replay_s:6.1%}")


if __name__ == "__main__":
    main()
