"""The daemon's IPC: request latency, streaming throughput and memory.

A daemon process holds `--symbols` equities with `--candles` candles of each of three
intervals (1m, 1h, 4h), 1,000 trades each, and as many L2 depth books of 20 levels a side,
and serves them on a Unix socket (the real `DaemonServer`; no JetStream, the market is
filled directly). Printed:
- `get_candles` (100 candles) and `get_orderbook` (depth 10) latency, p50/p99/p99.9, with 1
  and 8 concurrent client processes (the blocking `MarketDataClient`);
- streaming: trade updates per second reaching one subscriber while the daemon applies one
  trade per update;
- the daemon process's RSS with all of it in memory.

Usage: .venv/bin/python bench/bench_daemon_ipc.py [--requests 20000] [--stream 100000]
       [--symbols 100] [--candles 1200]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from compute.candles import BufferConfig, Market
from flowtape.client import MarketDataClient
from live.daemon.config import DaemonSettings
from live.daemon.server import DaemonServer
from schemas.crypto import BookUpdate
from schemas.events import PRICE_SCALE
from schemas.ipc import Candle, Trade, TradeUpdate

INTERVALS = {"1m": 60, "1h": 3_600, "4h": 14_400}
T0 = 1_700_000_000 * 10**9 - (1_700_000_000 * 10**9) % (14_400 * 10**9)


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def filled_market(symbols: int, candles: int) -> Market:
    market = Market(BufferConfig(retention=dict.fromkeys(INTERVALS, candles), trades_kept=1_000))
    for s in range(symbols):
        symbol = f"S{s:03d}"
        for name, seconds in INTERVALS.items():
            start = T0 - candles * seconds * 10**9
            market.buffers.seed_candles("bench", symbol, name, [
                Candle(start + i * seconds * 10**9, 100 * PRICE_SCALE + i, 101 * PRICE_SCALE + i,
                       99 * PRICE_SCALE + i, 100 * PRICE_SCALE + i, 1_000 + i, 10)
                for i in range(candles)
            ])  # fmt: skip
        market.buffers.seed_trades("bench", symbol, [
            Trade("bench", symbol, T0 - i, T0 - i, 100 * PRICE_SCALE + i, 5, "buy", i)
            for i in range(1_000, 0, -1)
        ])  # fmt: skip
        bids = [(100 * PRICE_SCALE - i * PRICE_SCALE // 100) for i in range(20)]
        asks = [(100 * PRICE_SCALE + (i + 1) * PRICE_SCALE // 100) for i in range(20)]
        market.apply([BookUpdate(
            ts_recv=T0, ts_event=T0, publisher_id=1, instrument_id=s, source="bench",
            symbol=symbol, venue="bench", venue_symbol=symbol, sequence=1, snapshot=True,
            first_update_id=1, bid_px=bids, bid_sz=[10] * 20, ask_px=asks, ask_sz=[10] * 20,
        )])  # fmt: skip
    return market


async def serve(socket_path: Path, symbols: int, candles: int, stream: int) -> None:
    base = rss_kb()
    market = filled_market(symbols, candles)
    gc.collect()
    gc.freeze()  # as the daemon does after seeding
    settings = DaemonSettings(seed=False, socket_path=socket_path,
                              retention=dict.fromkeys(INTERVALS, candles),
                              send_buffer_bytes=64 * 1024 * 1024)  # fmt: skip
    server = DaemonServer(market, settings, socket_path)
    await server.start()
    print(f"ready {base} {rss_kb()}", flush=True)
    while not server.subscribers("trades", "bench", "STREAM"):  # noqa: ASYNC110  (no event)
        await asyncio.sleep(0.05)  # the streaming phase starts with its subscriber
    for i in range(stream):
        trade = Trade("bench", "STREAM", T0 + i, T0 + i, PRICE_SCALE, 1, "buy", i)
        changes = market.apply([])
        changes.trades[("bench", "STREAM")].append(trade)
        server.publish(changes)
        if i % 64 == 63:
            await asyncio.sleep(0)  # let the socket drain, as between log batches
    await asyncio.sleep(3_600)


def percentiles(samples_ns: list[int]) -> str:
    ordered = sorted(samples_ns)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] / 1_000

    return f"p50 {at(0.50):7.1f} µs  p99 {at(0.99):7.1f} µs  p99.9 {at(0.999):7.1f} µs"


def client_latencies(args: tuple[str, str, int, int]) -> list[int]:
    socket_path, call, requests, seed = args
    samples = []
    with MarketDataClient(socket_path) as client:
        for i in range(requests + 200):
            symbol = f"S{(seed + i) % 100:03d}"
            started = time.perf_counter_ns()
            if call == "get_candles":
                client.get_candles("bench", symbol, "1m", 100)
            else:
                client.get_orderbook("bench", symbol, 10)
            if i >= 200:  # the first requests warm up the connection
                samples.append(time.perf_counter_ns() - started)
    return samples


def streaming_rate(socket_path: str, stream: int) -> float:
    with MarketDataClient(socket_path) as client:
        subscription = client.subscribe_trades("bench", "STREAM")
        received, first = 0, 0.0
        while received < stream:
            update = subscription.next_update(30)
            if not isinstance(update, TradeUpdate):
                raise RuntimeError(f"the stream stopped after {received} updates")
            if received == 0:
                first = time.perf_counter()
            received += 1
        return (stream - 1) / (time.perf_counter() - first)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=20_000)
    parser.add_argument("--stream", type=int, default=100_000)
    parser.add_argument("--symbols", type=int, default=100)
    parser.add_argument("--candles", type=int, default=1_200)
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.symbols, args.candles, args.stream))
        return
    folder = Path(tempfile.mkdtemp(prefix="ftbench", dir="/tmp"))  # noqa: S108  (short path)
    socket_path = str(folder / "daemon.sock")
    daemon = subprocess.Popen(  # noqa: S603  (this script, with numbers)
        [sys.executable, __file__, "--serve", socket_path, "--symbols", str(args.symbols),
         "--candles", str(args.candles), "--stream", str(args.stream)],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert daemon.stdout is not None
        _, base_kb, full_kb = daemon.stdout.readline().split()
        print(
            f"daemon RSS: {int(full_kb) / 1024:.0f} MB with {args.symbols} symbols x "
            f"{args.candles} candles x {len(INTERVALS)} intervals, 1,000 trades each and "
            f"{args.symbols} books of 20+20 levels ({int(base_kb) / 1024:.0f} MB before)"
        )
        context = multiprocessing.get_context("spawn")
        for call in ("get_candles", "get_orderbook"):
            for clients in (1, 8):
                per_client = max(1, args.requests // clients)
                with context.Pool(clients) as pool:
                    jobs = [(socket_path, call, per_client, c) for c in range(clients)]
                    results = pool.map(client_latencies, jobs)
                samples = [s for r in results for s in r]
                what = "100 candles" if call == "get_candles" else "depth 10"
                print(
                    f"{call:<14}({what:<11}) {clients} client(s): {percentiles(samples)}  "
                    f"({len(samples):,} requests)"
                )
        rate = streaming_rate(socket_path, args.stream)
        print(f"streaming: {rate:,.0f} trade updates/s to one subscriber ({args.stream:,} sent)")
    finally:
        daemon.kill()
        daemon.wait()
        for path in folder.iterdir():
            path.unlink()
        os.rmdir(folder)


if __name__ == "__main__":
    main()
