# ruff: noqa: T201  (prints its figures)
"""Figures for the API (not part of the test run):

    python -m tests.integration.api.measure [packets] [clients]

Private NATS and ClickHouse; publishes `packets` FlowPackets on DERIVED in messages of 100
and reports how long `clients` WebSocket subscribers took to receive all of them, then the
latency of GET /v1/packets and /v1/packets/{id} over the same number of stored packets.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx
import msgspec
from websockets.asyncio.client import connect

from api.app import create_app
from api.tape import Client, Tape
from infra.bus import Bus, LogMessage
from infra.embedded import clickhouse_server, nats_server
from infra.migrate import migrate
from infra.warehouse import Warehouse
from schemas.events import FlowPacket
from schemas.subjects import derived_subject
from tests.integration.api.conftest import api_settings, serving
from tests.integration.api.session import seed_events


def packets(n: int) -> list[FlowPacket]:
    template = next(e for e in seed_events("live") if isinstance(e, FlowPacket))
    return [
        msgspec.structs.replace(template, packet_id=f"p{i:07d}", ts_start=template.ts_start + i,
                                underlying=("AAPL", "MSFT", "NVDA", "SPY")[i % 4])
        for i in range(n)
    ]  # fmt: skip


async def main(n: int, clients: int) -> None:
    root = Path(tempfile.mkdtemp(prefix="flowtape-measure-"))
    servers = [nats_server(root / "nats"), clickhouse_server(root / "clickhouse")]
    for server in servers:
        server.start()
    try:
        nats, clickhouse = servers
        warehouse = Warehouse.connect(clickhouse.url, "flowtape")
        migrate(warehouse)
        bus = await Bus.connect(nats.url)
        await bus.ensure_streams()
        events = packets(n)
        settings = api_settings(root, nats.url, clickhouse.url, "flowtape")
        app = create_app(settings, ws_queue_size=max(1000, n))
        async with serving(app) as api:
            sockets = [await connect(api.ws_url, max_size=None) for _ in range(clients)]
            for ws in sockets:
                await ws.send(json.dumps({"action": "subscribe", "channels": ["packets"]}))
                await ws.recv()

            async def drain(ws) -> int:  # type: ignore[no-untyped-def]
                got = 0
                while got < n:
                    frame = json.loads(await ws.recv())
                    got += len(frame.get("events", ()))
                return got

            started = time.perf_counter()
            receivers = [asyncio.create_task(drain(ws)) for ws in sockets]
            subject = derived_subject(FlowPacket)
            for i in range(0, n, 100):
                await bus.publish(subject, events[i : i + 100], run_id="live")
            published = time.perf_counter() - started
            await asyncio.gather(*receivers)
            took = time.perf_counter() - started
            print(f"tape: {n} packets to {clients} clients in {took:.2f}s "
                  f"({n * clients / took:,.0f} deliveries/s; publishing alone {published:.2f}s); "
                  f"dropped {app.state.tape.metrics.dropped}")  # fmt: skip
            for ws in sockets:
                await ws.close()

            tape = Tape(None, queue_size=n + 1)  # type: ignore[arg-type]  (dispatch only)
            tape.position = 0
            tape.clients |= {Client(n + 1, channels={"packets"}) for _ in range(clients)}
            t = time.perf_counter()
            for seq, i in enumerate(range(0, n, 100), start=1):
                tape.dispatch(LogMessage(seq, subject, "live", events[i : i + 100], None))  # type: ignore[arg-type]
            took = time.perf_counter() - t
            print(f"fan-out alone (Tape.dispatch, {clients} clients): {n / took:,.0f} events/s")

            warehouse.insert_events(events, run_id="live", log_seq=1)
            async with httpx.AsyncClient(base_url=api.base_url, timeout=60) as http:
                for path in ("/v1/packets?limit=100", "/v1/packets?limit=1000&underlying=SPY",
                             f"/v1/packets/{events[n // 2].packet_id}"):  # fmt: skip
                    timings = []
                    for _ in range(20):
                        t = time.perf_counter()
                        response = await http.get(path)
                        timings.append(time.perf_counter() - t)
                        assert response.status_code == 200, response.text
                    print(f"GET {path} over {n} stored packets: median "
                          f"{statistics.median(timings) * 1000:.1f} ms")  # fmt: skip
        await bus.close()
        warehouse.close()
    finally:
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    asyncio.run(main(args[0] if args else 20_000, args[1] if len(args) > 1 else 4))
