"""Engine throughput: option prints per second through `compute.step` (the struct engine) and
through the kernel path (the compiled kernel, packet formatting, classifiers, Arrow tables).

The inputs, all timed on the engine alone (events decoded beforehand, no bus, no storage):

- dbn: a synthetic OPRA session written as DBN files (definition + tcbbo, the files
  `bench_replay.py` replays), printed next to the rate of merely decoding the same tcbbo
  file (`DBNStore.to_ndarray`) and of decoding + normalising it, in the same run;
- dbn, wide: the same on a chain of about 306,000 contracts instead of about a thousand;
- tcbbo: prints built in memory, shaped like OPRA flow (lone prints, sweeps across venues,
  splits on one venue, multi-leg orders on one venue at one instant, lit and off-exchange
  equity prints), each carrying the NBBO just before it;
- cmbp-1: the same flow with NBBO updates as separate quote events that the engine joins;
- tcbbo, 300,000 contracts: the in-memory flow on 300,000 contracts.

The in-memory flow is dense (a quarter of the prints in stored packets, hits on one packet
in twenty), to load the formatting of packets and hits; the DBN sessions are mostly singles.

Usage: .venv/bin/python bench/bench_engine.py [--prints 1000000] [--batch 1000]
       [--kernel-batch 65536] [--shards N] [--profile] [--arrow-pool system|mimalloc]
       [--per-batch] [--warm-mb MB] [--transparent-huge-pages off|system]
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import multiprocessing
import os
import pstats
import random
import time
from collections import Counter
from multiprocessing.connection import Connection
from pathlib import Path

import databento
import numpy as np
import pyarrow as pa
from sessions import session_files, timed

from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.columnar import columns_from_events, new_state, step_columns
from compute.flow.shards import Router
from compute.flow.tables import flow_tables
from infra.pages import huge_pages_disabled, set_huge_pages
from replay.driver import use_system_allocator
from replay.sources import dbn_events
from schemas.codec import decode_batch, encode_batch
from schemas.events import (
    EquityPrint,
    Event,
    FlowPacket,
    OptionContract,
    OptionPrint,
    OptionQuote,
)
from schemas.occ import format_occ

T0 = 1_740_061_800_000_000_000  # 2025-02-20 09:30 New York
SCALE = 1_000_000_000


def build_session(
    n_prints: int,
    *,
    with_quotes: bool,
    seed: int = 1,
    n_underlyings: int = 50,
    per_underlying: int = 40,
) -> list[Event]:
    """About `n_prints` option prints (plus quotes/equity prints) in canonical order, on
    `n_underlyings` x `per_underlying` contracts."""
    rng = random.Random(seed)  # noqa: S311  (benchmark data)
    events: list[Event] = []
    contracts: list[tuple[int, str, str, int]] = []
    underlyings = [f"U{i:04d}" for i in range(n_underlyings)]
    iid = 1
    for u in underlyings:
        for k in range(per_underlying):
            right = "C" if k % 2 == 0 else "P"
            strike = (100 + 5 * (k // 2)) * SCALE
            symbol = format_occ(u, 20250321, right, strike)
            contracts.append((iid, symbol, u, strike))
            events.append(
                OptionContract(
                    ts_recv=T0 - SCALE,
                    ts_event=T0 - SCALE,
                    publisher_id=1,
                    instrument_id=iid,
                    source="bench",
                    symbol=symbol,
                    underlying=u,
                    right=right,
                    strike_price=strike,
                    expiration=None,
                )  # fmt: skip
            )
            iid += 1
    mids = {c[0]: rng.randint(50, 2000) * 10_000_000 for c in contracts}
    seq = 0
    ts = T0
    n = 0
    spread = 10_000_000
    while n < n_prints:
        ts += rng.randint(20_000, 180_000)
        roll = rng.random()
        c = contracts[rng.randrange(len(contracts))]
        if roll < 0.55:
            group = [(c, 1, rng.randint(20, 36))]
        elif roll < 0.85:
            venues = rng.sample(range(20, 37), rng.randint(2, 6))
            group = [(c, 1, v) for v in venues]
        elif roll < 0.95:
            group = [(c, 1, 25)] * rng.randint(2, 5)
        else:
            base = (c[0] - 1) // per_underlying * per_underlying
            legs = rng.sample(contracts[base : base + per_underlying], rng.randint(2, 3))
            venue = rng.randint(20, 36)
            group = [(leg, 0, venue) for leg in legs]
        at = ts
        for contract, stagger, venue in group:
            cid, symbol, u, _ = contract
            mid = mids[cid] = max(20_000_000, mids[cid] + rng.choice((-1, 0, 0, 1)) * 5_000_000)
            bid, ask = mid - spread // 2, mid + spread // 2
            at += stagger * rng.randint(1_000, 400_000)
            seq += 1
            price = rng.choice((ask, ask, bid, mid, ask + 5_000_000))
            size = rng.choice((1, 1, 2, 5, 10, 20, 50, 100))
            nbbo = {
                "bid_px": bid,
                "ask_px": ask,
                "bid_sz": rng.randint(1, 50),
                "ask_sz": rng.randint(1, 50),
            }
            common = {"instrument_id": cid, "source": "bench", "symbol": symbol, "underlying": u}
            if with_quotes:  # the NBBO as its own quote event just before the print
                events.append(
                    OptionQuote(
                        ts_recv=at - 1,
                        ts_event=at - 2,
                        publisher_id=100,
                        sequence=seq,
                        **common,
                        **nbbo,
                    )
                )
                seq += 1
            events.append(
                OptionPrint(
                    ts_recv=at,
                    ts_event=at - 500,
                    publisher_id=venue,
                    sequence=seq,
                    price=price,
                    size=size,
                    **common,
                    **({} if with_quotes else nbbo),
                )
            )
            n += 1
        ts = max(ts, at)
        if rng.random() < 0.05:
            u = underlyings[rng.randrange(len(underlyings))]
            seq += 1
            events.append(
                EquityPrint(
                    ts_recv=ts + 1,
                    ts_event=ts,
                    publisher_id=2,
                    instrument_id=9,
                    sequence=seq,
                    source="bench",
                    symbol=u,
                    venue="XNAS",
                    off_exchange=rng.random() < 0.4,
                    price=rng.randint(100, 300) * SCALE,
                    size=rng.choice((100, 200, 500, 15_000)),
                )  # fmt: skip
            )
            ts += 1
    # Stagger can put a later group's print before an earlier one's: restore ts_recv order
    # (a stable sort on ts_recv keeps quotes before their prints).
    events.sort(key=lambda e: e.ts_recv)  # type: ignore[attr-defined]
    return events


def run(events: list[Event], batch: int) -> tuple[float, float, Counter[str], Counter[str]]:
    """(wall s, CPU s, outputs by type, packets by kind) of one engine run.

    Only the engine's calls are timed; outputs are counted between them and then dropped
    (freeing them is their consumer's work, as in a replay, where the writer drops them
    after the insert).
    """
    state = initial_state(EngineConfig(), "bench")
    types: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    elapsed = cpu = 0.0
    gc.collect()
    gc.disable()  # the service may tune gc too; this measures the engine's own work
    try:
        for lo in range(0, len(events) + batch, batch):
            started = time.perf_counter()
            cpu_started = time.process_time()
            if lo < len(events):
                state, out = step(state, events[lo : lo + batch])
            else:
                state, out = finish(state)
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            types.update(type(o).__name__ for o in out)
            kinds.update(p.kind for p in out if isinstance(p, FlowPacket))
            del out
    finally:
        gc.enable()
    return elapsed, cpu, types, kinds


def run_kernel(
    events: list[Event], batch: int, *, per_batch: bool = False
) -> tuple[float, float, float, Counter[str], float]:
    """(s to turn the structs into kernel columns, wall s, CPU s, rows by table, MB the
    resident memory grew) of the kernel path: kernel + packet formatting + classifiers + Arrow
    tables; `per_batch` prints each batch's kernel and formatting milliseconds and growth.

    Only the kernel path is timed: on the log the events arrive as columns already (the
    struct conversion here stands in for decoding an Arrow batch, timed apart)."""
    state = new_state(EngineConfig(), "bench")
    started = time.perf_counter()
    batches = [
        columns_from_events(state, events[lo : lo + batch]) for lo in range(0, len(events), batch)
    ]
    converting = time.perf_counter() - started
    rows: Counter[str] = Counter()
    elapsed = cpu = 0.0
    gc.collect()
    gc.disable()
    resident_at_start = resident_mb()
    try:
        for n, columns in enumerate([*batches, batches[0][:0]]):
            resident = resident_mb()
            started = time.perf_counter()
            cpu_started = time.process_time()
            outputs = step_columns(state, columns, finish=n == len(batches), full=False)
            stepped = time.perf_counter()
            found = flow_tables(state, outputs)
            elapsed += time.perf_counter() - started
            cpu += time.process_time() - cpu_started
            if per_batch:
                print(
                    f"  batch {n}: {outputs.prints.shape[1]:,} prints of {len(columns):,} "
                    f"events, kernel {1e3 * (stepped - started):.1f} ms, tables "
                    f"{1e3 * (time.perf_counter() - stepped):.1f} ms, resident memory "
                    f"{resident_mb() - resident:+.1f} MB"
                )
            rows.update({name: table.num_rows for name, table in found.tables.items()})
            rows["hits and alerts"] += len(found.hits_and_alerts)
    finally:
        gc.enable()
    return converting, elapsed, cpu, rows, resident_mb() - resident_at_start


def resident_mb() -> float:
    """This process's resident memory (Linux): its growth is memory touched for the first
    time, which on a virtual machine can cost more than the work done on it."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 1e6


def touch_and_free(megabytes: int) -> None:
    """Write `megabytes` of new memory and free it: later arrays land on pages this process
    has used (on a virtual machine a page's first touch can cost more than the work on it)."""
    if megabytes:
        np.ones(megabytes << 17, np.int64)


def report_kernel(path: str, events: list[Event], batch: int, *, per_batch: bool) -> float:
    """Run the kernel path over `events`, print its rate; returns prints/s.

    Run before the struct engine: the struct engine leaves its heap fragmented, and the
    kernel's arrays would then pay for fresh pages a replay process does not."""
    n_prints = sum(1 for e in events if type(e) is OptionPrint)
    converting, elapsed, cpu, rows, grown_mb = run_kernel(events, batch, per_batch=per_batch)
    print(
        f"[{path}] kernel path (kernel + formatting + classifiers + Arrow tables), batch "
        f"{batch}: {elapsed:.2f} s wall = {n_prints / elapsed:,.0f} prints/s; CPU {cpu:.2f} s = "
        f"{n_prints / cpu:,.0f} prints/s"
    )
    print(
        f"  rows: {dict(rows)}; resident memory grew {grown_mb:.0f} MB; structs -> columns "
        f"(untimed above): {converting:.2f} s"
    )
    return n_prints / elapsed


def report_both(
    path: str, events: list[Event], args: argparse.Namespace, note: str
) -> tuple[float, float, Counter[str]]:
    """The kernel path, then the struct engine, on `events`: (kernel path prints/s, struct
    prints/s, the struct engine's outputs by type)."""
    touch_and_free(args.warm_mb)
    kernel_rate = report_kernel(path, events, args.kernel_batch, per_batch=args.per_batch)
    gc.collect()
    struct_rate, types = report(path, events, args.batch, profile=args.profile, note=note)
    print(f"[{path}] kernel path / compute.step = {kernel_rate / struct_rate:.2f}")
    return kernel_rate, struct_rate, types


def report(
    path: str, events: list[Event], batch: int, *, profile: bool, note: str
) -> tuple[float, Counter[str]]:
    """Run the engine over `events`, print its rate and outputs; return prints/s and the
    outputs by type."""
    n_prints = sum(1 for e in events if type(e) is OptionPrint)
    if profile:
        profiler = cProfile.Profile()
        profiler.enable()
        run(events[: len(events) // 5], batch)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("tottime").print_stats(14)
    elapsed, cpu, types, kinds = run(events, batch)
    print(
        f"[{path}] {n_prints:,} prints, {len(events):,} events ({note}), "
        f"batch {batch}: {elapsed:.2f} s wall = {n_prints / elapsed:,.0f} prints/s, "
        f"{len(events) / elapsed:,.0f} events/s; CPU {cpu:.2f} s = "
        f"{n_prints / cpu:,.0f} prints/s"
    )
    print(f"  outputs: {dict(types)}")
    print(f"  packets: {dict(kinds)}")
    return n_prints / elapsed, types


def run_sharded(
    events: list[Event], batch: int, shards: int
) -> tuple[float, float, float, Counter[str]]:
    """(routing s, slowest shard's engine s, wall s, outputs by type) of `shards` engines,
    each in a forked process on its underlyings (`compute.flow.shards`), balanced by prints.

    Each process gets its part as one msgpack batch and decodes it before the clock starts,
    as `flowtape replay --shards` does, so its events lie in its own memory: engines reading
    the parent's objects would write reference counts into pages that interleave both
    parts, copying and sharing every page of the session.
    """
    weights = Counter(e.underlying for e in events if type(e) is OptionPrint)
    started = time.perf_counter()
    parts = Router(shards, weights).route(events)
    routing = time.perf_counter() - started
    started = time.perf_counter()
    payloads = [encode_batch(part) for part in parts]
    encoding = time.perf_counter() - started
    context = multiprocessing.get_context("fork")
    workers = []
    started = time.perf_counter()
    for payload in payloads:
        receiver, sender = context.Pipe(duplex=False)
        worker = context.Process(target=_run_shard, args=(payload, batch, sender))
        worker.start()
        workers.append((worker, receiver))
    engine_s: list[float] = []
    decode_s: list[float] = []
    types: Counter[str] = Counter()
    for worker, receiver in workers:
        decoding, elapsed, shard_types = receiver.recv()
        worker.join()
        decode_s.append(decoding)
        engine_s.append(elapsed)
        types.update(shard_types)
    wall = time.perf_counter() - started
    print(f"[dbn] engine seconds by shard: {', '.join(f'{s:.2f}' for s in engine_s)}; events "
          f"by shard: {', '.join(f'{len(p):,}' for p in parts)}; handing the parts over "
          f"(msgpack): encode {encoding:.2f} s, decode {max(decode_s):.2f} s")  # fmt: skip
    return routing, max(engine_s), wall, types


def _run_shard(payload: bytes, batch: int, sender: Connection) -> None:
    started = time.perf_counter()
    events = decode_batch(payload)
    decoding = time.perf_counter() - started
    elapsed, _, types, _ = run(events, batch)
    sender.send((decoding, elapsed, types))


def report_dbn(
    path: str, files: tuple[Path, Path], args: argparse.Namespace
) -> tuple[list[Event], Counter[str]]:
    """Decode a DBN session and run both engines on it, printing every rate side by side;
    returns its events and the struct engine's outputs by type."""
    definition, tcbbo = files
    started = time.perf_counter()
    records = len(databento.DBNStore.from_file(tcbbo).to_ndarray())
    decode_rate = timed(
        f"[{path}] bare decode (to_ndarray)", records, time.perf_counter() - started
    )
    started = time.perf_counter()
    stream, _ = dbn_events([definition, tcbbo])
    events = list(stream)
    normalise_rate = timed(
        f"[{path}] decode + normalise", len(events), time.perf_counter() - started
    )
    kernel_rate, engine_rate, types = report_both(path, events, args, "decoded")
    print(f"[{path}] engine / bare decode = {engine_rate / decode_rate:.3f}")
    print(f"[{path}] engine / decode + normalise = {engine_rate / normalise_rate:.3f}")
    print(f"[{path}] kernel path / bare decode = {kernel_rate / decode_rate:.3f}")
    return events, types


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--prints", type=int, default=1_000_000)
    parser.add_argument("--minutes", type=int, default=390, help="length of the dbn session")
    parser.add_argument("--batch", type=int, default=1000)
    parser.add_argument(
        "--kernel-batch", type=int, default=65_536, help="events per kernel step (replay-sized)"
    )
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--arrow-pool",
        choices=("system", "mimalloc"),
        default="system",
        help="Arrow's allocator: the C library's, as `flowtape replay` runs, or pyarrow's default",
    )
    parser.add_argument(
        "--shards", type=int, default=os.cpu_count() or 1, help="engines run side by side"
    )
    parser.add_argument("--per-batch", action="store_true", help="the kernel path batch by batch")
    parser.add_argument(
        "--warm-mb", type=int, default=0, help="write and free this much memory before each "
        "kernel path run (0: none; the kernel's arrays then land on pages used before)",
    )  # fmt: skip
    parser.add_argument(
        "--transparent-huge-pages", choices=("off", "system"), default="off",
        help="off: as `flowtape replay` and `flowtape compute` run (infra/pages.py); system: the "
        "kernel's policy, under which NumPy asks for huge pages",
    )  # fmt: skip
    args = parser.parse_args()
    if args.arrow_pool == "system":
        use_system_allocator()
    set_huge_pages(args.transparent_huge_pages)
    print(f"Arrow allocator: {pa.default_memory_pool().backend_name}")
    policy = "off" if huge_pages_disabled() else "as the kernel sets them"
    print(f"transparent huge pages: {policy}")

    events, single_types = report_dbn("dbn", session_files(args.prints, args.minutes), args)
    if args.shards > 1:
        n_prints = sum(1 for e in events if type(e) is OptionPrint)
        routing, slowest, wall, types = run_sharded(events, args.batch, args.shards)
        rate = n_prints / (routing + slowest)
        print(
            f"[dbn] {args.shards} engines sharded by underlying: routing {routing:.2f} s + "
            f"slowest engine {slowest:.2f} s = {rate:,.0f} prints/s "
            f"({n_prints / (routing + wall):,.0f} prints/s counting process start-up and "
            f"decoding the parts, wall {wall:.2f} s); same outputs as one engine: "
            f"{types == single_types}"
        )
    del events

    events, _ = report_dbn("dbn, wide", session_files(args.prints, args.minutes, wide=True), args)
    defined = sum(1 for e in events if type(e) is OptionContract)
    traded = len({e.instrument_id for e in events if type(e) is OptionPrint})
    print(f"[dbn, wide] {defined:,} contracts defined, {traded:,} of them traded")
    del events

    for path, with_quotes, shape in (
        ("tcbbo", False, {}),
        ("cmbp-1", True, {}),
        ("tcbbo, 300,000 contracts", False, {"n_underlyings": 1_000, "per_underlying": 300}),
    ):
        started = time.perf_counter()
        events = build_session(args.prints, with_quotes=with_quotes, **shape)
        note = f"built in {time.perf_counter() - started:.1f} s"
        report_both(path, events, args, note)


if __name__ == "__main__":
    main()
