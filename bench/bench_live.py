"""Live latency: the synthetic market through ingest -> JetStream -> compute -> JetStream ->
sink, with the API's WebSocket tape watched, at a set rate of option prints for a while.

Starts embedded NATS, Redis and ClickHouse in a temporary folder and `flowtape compute`,
`flowtape sink` and `flowtape api` as processes (as `flowtape up` runs them); the ingest
service runs in a child process on a pre-generated session paced in real time. Printed:
- print -> inference: from a print's publish (its place in the paced schedule) to its
  `inference` message on the WebSocket, p50 / p99 / max;
- packet close -> message: from the moment the watermark passes a packet's window (its
  first print's time + the cluster window + the allowed lateness, in the schedule) to its
  `packets` message; packets close on the watermark by design, so print -> packet latency
  is this plus the window and the lateness;
- the compute service's lag behind RAW (messages) and the sink's behind DERIVED, sampled
  every second: bounded if they do not grow;
- how far the ingest's source fell behind its schedule: a machine short of CPU for the rate
  shows here first, and every latency above includes it;
- the CPU time each process took per print delivered (ingest, compute, sink, API, NATS,
  Redis, ClickHouse and this bench's WebSocket client): where a rate's CPU goes.
The allowed lateness is set small (ALLOWED_LATENESS_MS, 20 ms here): every inference waits
for the watermark, so it is part of print -> inference. The ingest flushes every 10 ms here
(`--flush-ms`; the service's default is 50 ms). It sends a flush's events as one message per
type, so with an allowed lateness under the flush interval a flush's quotes move the
watermark past its prints before they are read, and those are flagged late (about half of
them at 10 ms lateness and a 50 ms flush). Rows flagged late are counted and timed apart.

    .venv/bin/python bench/bench_live.py [--rate 20000] [--seconds 300] [--sink-wait-s 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

import websockets
from cpu import cpu_seconds

from compute.flow import EngineConfig
from infra.bus import Bus
from infra.embedded import clickhouse_server, nats_server, redis_server
from infra.migrate import migrate
from infra.state import StateStore
from infra.warehouse import Warehouse
from ingest.service import IngestConfig, IngestService
from ingest.synthetic.source import SyntheticSource
from live.sink.config import SinkConfig
from live.sink.positions import stored_lag
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from synth import SynthConfig, generate_session

RUN_ID = "live-bench"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def paced_ingest(
    nats_url: str, rate: float, seconds: int, flush_s: float, pipe: Connection
) -> None:
    """Child: generate the session, say when pacing starts, publish it in real time."""
    config = SynthConfig(
        seed=11,
        minutes=max(1, -(-seconds // 60)),
        option_prints_per_second=rate,
        option_quotes_per_print=1.5,
        planted_per_kind=20,
    )
    session = generate_session(config)
    pipe.send(("ready", session.open_ns))
    pipe.recv()  # go

    async def run() -> None:
        bus = await Bus.connect(nats_url, name="bench-ingest")
        try:
            source = SyntheticSource(session=session, speed=1.0)
            service = IngestService(source, bus, IngestConfig(flush_interval_s=flush_s))
            started = time.monotonic()
            task = asyncio.create_task(service.run())
            while source.pacing_started is None and not task.done():  # noqa: ASYNC110
                await asyncio.sleep(0.001)  # (the source has no event to wait on)
            # the event loop's clock is time.monotonic(), as the parent's
            pacing = source.pacing_started or started
            pipe.send(("started", pacing, pacing - started))
            cpu_started = time.process_time()
            await asyncio.sleep(seconds)
            await source.close()
            await task
            pipe.send(("done", source.behind_s, time.process_time() - cpu_started))
        finally:
            await bus.close()

    asyncio.run(run())


def spawn_paced_ingest(
    nats_url: str, args: argparse.Namespace
) -> tuple[BaseProcess, Connection, int]:
    """`paced_ingest` in a child process, once its session is generated: (the process, the
    pipe to it, the session's open); it starts publishing when sent "go"."""
    context = multiprocessing.get_context("spawn")
    mine, theirs = context.Pipe()
    child = context.Process(
        target=paced_ingest,
        args=(nats_url, args.rate, args.seconds, args.flush_ms / 1e3, theirs),
        daemon=True,
    )
    child.start()
    _, open_ns = mine.recv()
    return child, mine, open_ns


async def create_streams(nats_url: str) -> None:
    bus = await Bus.connect(nats_url, name="bench-setup")
    try:
        await bus.ensure_streams()
    finally:
        await bus.close()


def _wait_for_port(port: int, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))]
    return (
        f"n={len(ordered):,} p50 {statistics.median(ordered):.1f} ms, p99 {p99:.1f} ms, "
        f"max {ordered[-1]:.1f} ms"
    )


async def _watch(
    url: str, seconds: int, schedule: tuple[float, int], window_ns: int, lateness_ns: int
) -> dict[str, list[float]]:
    """Milliseconds seen on the tape: print -> inference and packet close -> packet, each
    apart for rows flagged late (their event came behind the watermark)."""
    started, open_ns = schedule

    def scheduled(ts_ns: int) -> float:
        return started + (ts_ns - open_ns) / 1e9

    seen: dict[str, list[float]] = {}
    deadline = time.monotonic() + seconds
    async with websockets.connect(url, max_size=2**24) as ws:
        await ws.send(json.dumps({"action": "subscribe", "channels": ["inference", "packets"]}))
        while time.monotonic() < deadline:
            try:
                text = await asyncio.wait_for(ws.recv(), timeout=1.0)
            except TimeoutError:
                continue
            now = time.monotonic()
            message = json.loads(text)
            channel = message.get("channel")
            for data in message.get("events", ()):
                late = bool(data.get("late"))
                key = f"{channel}, late" if late else channel
                if channel == "inference" and data["ts_recv"] > open_ns:
                    at = scheduled(data["ts_recv"])
                elif channel == "packets" and data["ts_start"] > open_ns:
                    # a late print is a packet of its own at once: timed from the print
                    closes = 0 if late else window_ns + lateness_ns
                    at = scheduled(data["ts_start"] + closes)
                else:
                    continue
                seen.setdefault(key, []).append((now - at) * 1e3)
    return seen


async def _lag(
    nats_url: str, redis_url: str, clickhouse_url: str, seconds: int
) -> list[tuple[int, int]]:
    """Every second: (RAW messages past the last batch compute journaled or checkpointed,
    DERIVED past the sink's position)."""
    bus = await Bus.connect(nats_url, name="bench-lag")
    store = StateStore.connect(redis_url, RUN_ID)
    samples: list[tuple[int, int]] = []
    try:
        with Warehouse.connect(clickhouse_url) as warehouse:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                raw = await bus.last_sequence(RAW_STREAM)
                journal, checkpoint = await store.load_intents(), await store.load()
                position = journal[-1][1] if journal else checkpoint.position if checkpoint else 0
                sink = await stored_lag(bus, warehouse)
                samples.append((raw - position, sink[DERIVED_STREAM]["lag"]))
                await asyncio.sleep(1.0)
    finally:
        await store.close()
        await bus.close()
    return samples


async def _measure(
    args: argparse.Namespace, urls: tuple[str, str, str], port: int, schedule: tuple[float, int]
) -> tuple[dict[str, list[float]], list[tuple[int, int]]]:
    watched = _watch(
        f"ws://127.0.0.1:{port}/v1/ws",
        args.seconds,
        schedule,
        EngineConfig().cluster_window_ns,
        args.lateness_ms * 1_000_000,
    )
    seen, lag = await asyncio.gather(watched, _lag(*urls, args.seconds))
    return seen, lag


def live_arguments(
    description: str | None, seconds: int, *, with_sink: bool = False
) -> argparse.Namespace:
    """The paced market's arguments (`spawn_paced_ingest` reads them): rate, seconds, allowed
    lateness and the ingest's flush interval; `with_sink`: the sink's latency bound too."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--rate", type=float, default=20_000, help="option prints per second")
    parser.add_argument("--seconds", type=int, default=seconds)
    parser.add_argument("--lateness-ms", type=int, default=20)
    parser.add_argument("--flush-ms", type=float, default=10.0, help="the ingest's flush interval")
    if with_sink:
        parser.add_argument(
            "--sink-wait-s", type=float, default=SinkConfig().batch_wait_s,
            help="the sink's latency bound (`flowtape sink --batch-wait-s`): ClickHouse's CPU "
            "goes mostly with the number of inserts, not their rows",
        )  # fmt: skip
    args = parser.parse_args()
    if args.rate <= 0 or args.seconds <= 0:
        parser.error("--rate and --seconds must be positive")
    if with_sink and args.sink_wait_s <= 0:
        parser.error("--sink-wait-s must be positive")
    return args


def main() -> None:
    args = live_arguments(__doc__, seconds=300, with_sink=True)
    flowtape = str(Path(sys.executable).parent / "flowtape")
    with tempfile.TemporaryDirectory(prefix="bench-live-") as folder:
        root = Path(folder)
        servers = [nats_server(root / "nats"), redis_server(root / "redis")]
        servers.append(clickhouse_server(root / "clickhouse"))
        for server in servers:
            server.start()
        nats, valkey, clickhouse = servers
        processes: list[subprocess.Popen[bytes]] = []
        try:
            with Warehouse.connect(clickhouse.url) as warehouse:
                migrate(warehouse)
            asyncio.run(create_streams(nats.url))
            port = _free_port()
            env = {
                **os.environ,
                "NATS_URL": nats.url,
                "REDIS_URL": valkey.url,
                "CLICKHOUSE_URL": clickhouse.url,
                "FLOWTAPE_RUN_ID": RUN_ID,
                "ALLOWED_LATENESS_MS": str(args.lateness_ms),
                "FLOWTAPE_ENV": "development",
            }
            child, mine, open_ns = spawn_paced_ingest(nats.url, args)
            for command in (
                ["compute"],
                ["sink", "--batch-wait-s", str(args.sink_wait_s)],
                ["api", "--port", str(port), "--no-migrate", "--log-level", "warning"],
            ):
                processes.append(subprocess.Popen([flowtape, *command], env=env))  # noqa: S603
            _wait_for_port(port, 120)  # the API listens (the others connect meanwhile)
            time.sleep(2)
            mine.send("go")
            _, started, start_up_s = mine.recv()
            print(f"the ingest paced its session from {start_up_s * 1e3:.0f} ms after it started")
            pids = {
                "compute": processes[0].pid,
                "sink": processes[1].pid,
                "api": processes[2].pid,
                "NATS": nats.pid,
                "Redis": valkey.pid,
                "ClickHouse": clickhouse.pid,
            }
            running = {name: pid for name, pid in pids.items() if pid is not None}
            cpu_before = {name: cpu_seconds(pid) for name, pid in running.items()}
            own_before = time.process_time()
            seen, lag = asyncio.run(
                _measure(args, (nats.url, valkey.url, clickhouse.url), port, (started, open_ns))
            )
            cpu = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in running.items()}
            cpu["the bench's WebSocket client"] = time.process_time() - own_before
            _, behind_s, cpu["ingest"] = mine.recv()
            child.join(timeout=60)
            print(
                f"rate {args.rate:,.0f} option prints/s for {args.seconds} s "
                f"(allowed lateness {args.lateness_ms} ms, ingest flush {args.flush_ms:g} ms, "
                f"sink latency bound {args.sink_wait_s:g} s)"
            )
            print(f"the ingest's source fell up to {behind_s * 1e3:,.0f} ms behind its schedule")
            for key, label in (
                ("inference", "print -> inference"),
                ("packets", "packet close -> packet"),
                ("inference, late", "print -> inference, rows flagged late"),
                ("packets, late", "print -> packet, packets flagged late"),
            ):
                print(f"{label} on the WebSocket: {_percentiles(seen.get(key, []))}")
            delivered = max(
                1, len(seen.get("inference", [])) + len(seen.get("inference, late", []))
            )
            print(
                f"CPU per print delivered ({delivered:,} in {args.seconds} s, "
                f"{delivered / args.seconds:,.0f}/s): "
                + ", ".join(f"{name} {s * 1e6 / delivered:.1f} us" for name, s in cpu.items())
                + f"; in all {sum(cpu.values()) * 1e6 / delivered:.1f} us"
            )
            third = max(1, len(lag) // 3)
            for label, at in (("compute behind RAW", 0), ("sink behind DERIVED", 1)):
                first, last = [x[at] for x in lag[:third]], [x[at] for x in lag[-third:]]
                early, late = statistics.fmean(first), statistics.fmean(last)
                print(
                    f"{label} (messages): max {max(x[at] for x in lag)}, mean over the first "
                    f"third {early:.1f}, over the last {late:.1f}"
                )
        finally:
            for process in processes:
                process.terminate()
            for process in processes:
                process.wait(timeout=30)
            for server in reversed(servers):
                server.stop()


if __name__ == "__main__":
    main()
