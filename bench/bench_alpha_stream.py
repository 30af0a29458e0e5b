"""The paid alpha stream under load: N paying subscribers on loopback, one CL frame a second.

The API (uvicorn, in this process) serves the stream over embedded NATS, Redis and
ClickHouse started in a temporary folder, with payments on a local EVM (web3's tester)
holding one channel per subscriber. Child processes (`--client-processes`) run the N
subscribers (the reference client, `payments.client.AlphaSubscriber`): each opens its
session with a voucher, streams, and pays a voucher whenever asked. The gateway's clock
runs `--speed` times faster (a paid minute lasts 60/speed seconds); all sessions open
within seconds of each other; each renews after a random wait (RENEW_SPREAD_S), as
subscribers arriving at their own times would.
Frame delay: the subscriber's wall clock once it has decoded a frame's JSON, minus the
frame's `ts_recv`, the wall clock read just before the frame is published to DERIVED (one
machine, one clock). It holds the JetStream round trip, the API's feed, its writes to every
socket, the kernel's loopback and the subscriber's own receive. Printed: frames expected and
received, the delay's p50 / p99 / max, the API's part of it (publish -> the feed's dispatch,
and the fan-out: the dispatch's first to last socket write, per frame), vouchers accepted,
and the load average at start and end (the machine may be shared).

    .venv/bin/python bench/bench_alpha_stream.py [--subscribers 200] [--seconds 120] [--speed 1]
        [--client-processes 4]
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import secrets
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
from eth_account import Account

# The repository's tests/ (its local chain and frame kit) before any `tests` package that a
# dependency installed into site-packages.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from api.alpha_feed import AlphaFeed  # noqa: E402
from api.app import create_app  # noqa: E402
from infra.bus import Bus  # noqa: E402
from infra.embedded import clickhouse_server, nats_server, redis_server  # noqa: E402
from infra.settings import Settings  # noqa: E402
from payments.channel import PayerChannel  # noqa: E402
from payments.client import AlphaSubscriber  # noqa: E402
from payments.transactions import send  # noqa: E402
from schemas.cme import AlphaFrame  # noqa: E402
from tests.integration.api.conftest import serving  # noqa: E402
from tests.integration.payments.chain import LocalChain  # noqa: E402
from tests.integration.payments.frames import ALPHA_SUBJECT, alpha_frame  # noqa: E402
from tests.integration.payments.session import Clock, gateway  # noqa: E402

DEPOSIT = 1_000 * 1_000  # a thousand minutes at 0.001
OPEN_GAS = 300_000
# The server asks for a voucher VOUCHER_LEAD_S (paid-clock seconds) before the paid time
# ends; each subscriber pays within the first RENEW_SPREAD_S wall seconds of that, well
# before the end up to --speed 2 (a later voucher finds frames withheld: no free minute).
VOUCHER_LEAD_S = 30
RENEW_SPREAD_S = 10.0
OPENING_AT_ONCE = 10  # sessions a client process opens at a time (each reads the chain)


def open_channels(chain: LocalChain, payee: str, count: int) -> tuple[bytes, list[bytes]]:
    """`count` channels of one payer to `payee` (sent with explicit gas: no estimation)."""
    payer = chain.account(DEPOSIT * count)
    escrow, token, w3 = chain.escrow_contract, chain.token, chain.w3
    send(w3, payer, token.functions.approve(escrow.address, DEPOSIT * count))
    nonce, chain_id = w3.eth.get_transaction_count(payer.address), int(w3.eth.chain_id)
    fees = {"maxFeePerGas": 2 * 10**9, "maxPriorityFeePerGas": 10**9}
    ids = []
    for _ in range(count):
        salt = secrets.token_bytes(32)
        call = escrow.functions.open(payee, token.address, DEPOSIT, salt, payer.address)
        tx = call.build_transaction(
            {"from": payer.address, "nonce": nonce, "gas": OPEN_GAS, "chainId": chain_id, **fees}
        )
        w3.eth.send_raw_transaction(payer.sign_transaction(tx).raw_transaction)
        nonce += 1
        ids.append(
            bytes(
                escrow.functions.computeChannelId(
                    payer.address, payee, token.address, salt, payer.address
                ).call()
            )
        )
    return bytes(payer.key), ids


def timed_dispatch(feed_ms: list[float], fanout_ms: list[float]) -> None:
    """Time the API's feed in this process (where uvicorn serves it): publish -> dispatch,
    and each dispatch from its start to the last subscriber's socket written."""
    dispatch = AlphaFeed._dispatch

    def timed(feed: AlphaFeed, seq: int, frame: AlphaFrame) -> None:
        feed_ms.append((time.time_ns() - frame.ts_recv) / 1e6)
        started = time.perf_counter()
        dispatch(feed, seq, frame)
        fanout_ms.append((time.perf_counter() - started) * 1e3)

    AlphaFeed._dispatch = timed  # type: ignore[method-assign]  # a bench-only probe


def percentiles(values: list[float]) -> str:
    ordered = sorted(values)
    if len(ordered) < 2:
        return "no samples"
    quantiles = statistics.quantiles(ordered, n=100, method="inclusive")  # within the samples
    return f"p50 {quantiles[49]:.1f}  p99 {quantiles[98]:.1f}  max {ordered[-1]:.1f}"


def subscribers_process(
    base_url: str, key: bytes, chain_id: int, escrow: str, ids: list[bytes], seconds: float,
    pipe: Connection,
) -> None:  # fmt: skip
    """The child: every subscriber streams for `seconds`; sends back delays and counts."""
    payer = Account.from_key(key)

    async def main() -> dict[str, Any]:
        delays: list[float] = []
        received = [0] * len(ids)
        stop = asyncio.Event()
        limits = httpx.Limits(max_connections=len(ids))
        async with httpx.AsyncClient(timeout=60, limits=limits) as http:
            clients = [
                AlphaSubscriber(base_url, "CL", PayerChannel(cid, chain_id, escrow, payer),
                                payer.address, http, renew_spread_s=RENEW_SPREAD_S)
                for cid in ids
            ]  # fmt: skip
            opening = asyncio.Semaphore(OPENING_AT_ONCE)

            async def open_session(client: AlphaSubscriber) -> None:
                async with opening:
                    await client.pay()

            await asyncio.gather(*(open_session(c) for c in clients))

            def on_frame(index: int):  # type: ignore[no-untyped-def]
                def record(frame: dict[str, Any]) -> None:
                    delays.append((time.time_ns() - frame["ts_recv"]) / 1e6)
                    received[index] += 1

                return record

            pipe.send(("ready", None))
            pipe.recv()  # the first frame is about to be published
            streams = [
                asyncio.create_task(c.stream(on_frame(i), stop=stop)) for i, c in enumerate(clients)
            ]
            await asyncio.sleep(seconds)
            stop.set()
            ended = await asyncio.gather(*streams, return_exceptions=True)
            payments = sum(len(c.receipts) for c in clients)
        failures = [repr(e) for e in ended if e != "stopped"]
        return {"delays": delays, "received": received, "payments": payments,
                "failures": failures[:5], "failed": len(failures)}  # fmt: skip

    pipe.send(("done", asyncio.run(main())))


async def load(
    base_url: str,
    nats: str,
    chain: LocalChain,
    key: bytes,
    ids: list[bytes],
    seconds: float,
    processes: int,
) -> tuple[int, dict[str, Any]]:
    """Start the subscribers' processes, publish a frame a second, collect what they saw."""
    bus = await Bus.connect(nats)
    await bus.ensure_streams()
    network = chain.network()
    pipes, workers = [], []
    for part in range(processes):
        parent, child = multiprocessing.Pipe()
        worker = multiprocessing.get_context("spawn").Process(
            target=subscribers_process,
            args=(base_url, key, network.chain_id, network.escrow, ids[part::processes],
                  seconds, child),
        )  # fmt: skip
        worker.start()
        pipes.append(parent)
        workers.append(worker)
    for parent in pipes:
        await asyncio.to_thread(parent.recv)  # every session paid
    for parent in pipes:
        parent.send("go")
    await asyncio.sleep(1.0)  # the subscribers' WebSockets are open and subscribed
    published = 0
    deadline = time.monotonic() + seconds - 1.5
    while time.monotonic() < deadline:
        tick = time.monotonic()
        published += 1
        frame = alpha_frame("CL", time.time_ns(), published)
        await bus.publish(ALPHA_SUBJECT, [frame], run_id="live")
        await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - tick)))
    merged: dict[str, Any] = {"delays": [], "received": [], "payments": 0, "failures": [],
                              "failed": 0}  # fmt: skip
    for parent, worker in zip(pipes, workers, strict=True):
        _, result = await asyncio.to_thread(parent.recv)
        await asyncio.to_thread(worker.join)
        for name in ("delays", "received", "failures"):
            merged[name] += result[name]
        merged["payments"] += result["payments"]
        merged["failed"] += result["failed"]
    await bus.close()
    return published, merged


async def run(subscribers: int, seconds: float, speed: float, processes: int) -> None:
    load_before = os.getloadavg()
    feed_ms: list[float] = []
    fanout_ms: list[float] = []
    timed_dispatch(feed_ms, fanout_ms)
    folder = Path(tempfile.mkdtemp(prefix="bench-alpha-stream-"))
    servers = [nats_server(folder / "nats"), redis_server(folder / "redis"),
               clickhouse_server(folder / "clickhouse")]  # fmt: skip
    for server in servers:
        server.start()
    nats, redis_url, clickhouse = (s.url for s in servers)
    try:
        chain = LocalChain.start()
        payee = chain.account()
        started = time.perf_counter()
        key, ids = open_channels(chain, payee.address, subscribers)
        print(f"opened {subscribers} channels in {time.perf_counter() - started:.1f} s")
        gw = gateway(chain, payee, redis_url, Clock(speed), MPP_VOUCHER_LEAD_S=str(VOUCHER_LEAD_S),
                     MPP_SETTLE_INTERVAL_S="3600")  # fmt: skip
        settings = Settings(
            _env_file=None,  # type: ignore[call-arg]
            FLOWTAPE_DATA_DIR=str(folder / "api"), NATS_URL=nats, CLICKHOUSE_URL=clickhouse,
            API_AUTH="off",
        )  # fmt: skip
        app = create_app(settings, payments=gw, migrate_schema=True)
        async with serving(app) as api:
            published, result = await load(api.base_url, nats, chain, key, ids, seconds, processes)
            dropped = app.state.alpha.feed.dropped
        print(
            f"subscribers {subscribers} in {processes} client processes, "
            f"frames published {published} at 1 Hz, "
            f"each subscriber received min {min(result['received'])} "
            f"max {max(result['received'])}, total {len(result['delays'])} of"
            f" {published * subscribers}"
        )
        print(f"frame delay ms: {percentiles(result['delays'])}")
        print(f"  of which in the API: publish -> feed {percentiles(feed_ms)};"
              f" fan-out to {subscribers} sockets {percentiles(fanout_ms)}")  # fmt: skip
        print(f"frames dropped by the API (a subscriber's socket backed up): {dropped}")
        print(f"vouchers accepted {result['payments']} (paid minute = {60 / speed:.0f} s); "
              f"streams failed {result['failed']} {result['failures']}")  # fmt: skip
        start, end = (" ".join(f"{x:.2f}" for x in when) for when in (load_before, os.getloadavg()))
        print(f"load average (1, 5, 15 min) at start {start}, at end {end}")
    finally:
        for server_process in reversed(servers):
            server_process.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--speed", type=float, default=1.0, help="gateway clock speed-up")
    parser.add_argument("--client-processes", type=int, default=4)
    args = parser.parse_args()
    asyncio.run(run(args.subscribers, args.seconds, args.speed, args.client_processes))


if __name__ == "__main__":
    main()
