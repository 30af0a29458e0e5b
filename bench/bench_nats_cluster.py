"""A 3-node NATS cluster under a SIGKILLed stream leader: how long publishing stalls.

Starts `nats_cluster(3)` in a temporary folder with RAW and DERIVED as R3 streams, and one
publisher (a Bus given every seed) sending one-print batches to RAW back to back. After
`--before` messages the RAW leader is killed with SIGKILL; after `--during` more it is
restarted. Prints, per round: the time until a live node leads RAW again (as the monitor
reports it), the first acknowledgement after the kill, the longest publish, the publish rate
before and after, and the check that RAW holds each message exactly once.

    .venv/bin/python bench/bench_nats_cluster.py [--rounds 5 --before 2000 --during 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

from infra.bus import Bus
from infra.embedded import NatsCluster, nats_cluster
from schemas.events import OptionPrint
from schemas.subjects import RAW_STREAM, raw_subject

T0 = 1_704_290_400 * 10**9  # 2024-01-03 14:00 UTC
SUBJECT = raw_subject(OptionPrint, "synthetic")


def one_print(n: int) -> OptionPrint:
    return OptionPrint(
        ts_recv=T0 + n, ts_event=T0 + n - 1_000, publisher_id=20, instrument_id=1, sequence=n,
        source="synthetic", symbol="AAPL  240119C00185000", underlying="AAPL",
        price=185 * 10**7, size=1 + n % 50, bid_px=None, ask_px=None, bid_sz=None, ask_sz=None,
    )  # fmt: skip


async def publish_timed(bus: Bus, start: int, count: int) -> list[tuple[float, float]]:
    """(sent at, seconds to ack) per message, in order."""
    timings = []
    for n in range(start, start + count):
        sent = time.monotonic()
        await bus.publish(SUBJECT, [one_print(n)], run_id="bench")
        timings.append((sent, time.monotonic() - sent))
    return timings


def rate(timings: list[tuple[float, float]]) -> float:
    return len(timings) / sum(seconds for _, seconds in timings)


async def watch_leader(cluster: NatsCluster, dead: str, since: float) -> float:
    while True:
        leader = await asyncio.to_thread(cluster.stream_leader, RAW_STREAM)
        if leader and leader != dead:
            return time.monotonic() - since
        await asyncio.sleep(0.02)


async def one_round(cluster: NatsCluster, bus: Bus, first: int, before: int, during: int) -> int:
    calm = await publish_timed(bus, first, before)
    dead = await bus.stream_leader(RAW_STREAM)
    killed_at = time.monotonic()
    cluster.kill(cluster.node_named(dead))
    elected = asyncio.create_task(watch_leader(cluster, dead, killed_at))
    stormy = await publish_timed(bus, first + before, during)
    cluster.restart(cluster.node_named(dead))
    print(
        f"killed {dead}: RAW led again after {await elected:.2f}s, first ack after "
        f"{stormy[0][1]:.2f}s, longest publish {max(s for _, s in stormy):.2f}s; "
        f"{rate(calm):,.0f} msg/s before, "
        f"{rate(stormy[1:]):,.0f} msg/s after (median ack "
        f"{statistics.median(s for _, s in stormy[1:]) * 1000:.1f} ms)"
    )
    return first + before + during


async def main(rounds: int, before: int, during: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = nats_cluster(Path(tmp), 3)
        started = time.monotonic()
        cluster.start()
        print(f"3 nodes up with a meta leader in {time.monotonic() - started:.2f}s")
        try:
            bus = await Bus.connect(cluster.url, name="bench-cluster")
            await bus.ensure_streams(replicas=3)
            sent = 0
            for _ in range(rounds):
                sent = await one_round(cluster, bus, sent, before, during)
            stored = await bus.last_sequence(RAW_STREAM)
            info = await bus.js.stream_info(RAW_STREAM)
            print(f"{sent} published, RAW holds {info.state.messages} (last sequence {stored})")
            await bus.close()
        finally:
            cluster.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--before", type=int, default=500)
    parser.add_argument("--during", type=int, default=500)
    args = parser.parse_args()
    asyncio.run(main(args.rounds, args.before, args.during))
