"""The features consumer on the log: its HTTP and signal channel agree with a replay."""

import asyncio
import json
from collections import defaultdict

import aiohttp
import msgspec

from compute.features import FeaturesConfig, finish, initial_state, step
from infra.bus import Bus
from ingest.binance.parsing import BinanceNormaliser
from ingest.marketdata.symbology import default_table
from live.features.http import serve
from live.features.service import FeaturesService
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.events import Event
from schemas.ordering import canonical_sort
from schemas.subjects import raw_subject
from tests.integration.ingest.crypto.test_marketdata_service import wait_for
from tests.kit.crypto_frames import frames

CONFIG = FeaturesConfig(
    min_trades=2, long_return_bps=0.5, short_return_bps=0.5, min_imbalance=0.1,
    max_spread_bps=50.0, signal_cooldown_ns=1_000_000_000,
)  # fmt: skip
HALF_SECOND = 500_000_000


def recorded_events() -> list[Event]:
    parse = BinanceNormaliser("binance-spot", "binance-spot", default_table())
    return canonical_sort(
        [
            e
            for f in frames("binance-spot.jsonl")
            if "depth" not in f.raw
            for e in parse.frame(f.raw, f.recv_ts_ns)
        ]
    )


async def publish_in_time_slices(bus: Bus, events: list[Event]) -> None:
    """One message per type per half second of receive time, as the ingest service does."""
    slices: dict[int, dict[type, list[Event]]] = defaultdict(lambda: defaultdict(list))
    for event in events:
        slices[event.ts_recv // HALF_SECOND][type(event)].append(event)
    for _, by_type in sorted(slices.items()):
        for event_type, group in by_type.items():
            await bus.publish(raw_subject(event_type, "binance-spot"), group, run_id="live")


async def run_over(
    service: FeaturesService, running: asyncio.Task[None], events: list[Event]
) -> None:
    """Publish the events, wait until the running service has read them all, stop it."""
    await publish_in_time_slices(service.bus, events)
    await wait_for(lambda: service.counts["events"] == len(events))
    service.stop()
    await running


def replay(events: list[Event]) -> list[Event]:
    """The engine's outputs over the whole session in one batch, then its finish."""
    state = initial_state(CONFIG, "live")
    state, replayed = step(state, events)
    return replayed + finish(state)[1]


async def test_the_live_consumer_serves_what_a_replay_computes(bus: Bus) -> None:
    events = recorded_events()
    service = FeaturesService(bus, CONFIG)
    runner = await serve(service, "127.0.0.1", 0)
    port = runner.addresses[0][1]
    running = asyncio.create_task(service.run())
    received: list[dict[str, object]] = []
    async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
        socket = await http.ws_connect("/ws/signals")
        await wait_for(lambda: service.stats()["subscribers"] == 1)

        async def listen() -> None:
            async for message in socket:
                received.append(json.loads(message.data))

        listening = asyncio.create_task(listen())
        await run_over(service, running, events)
        replayed = replay(events)
        last: dict[str, CryptoFeatures] = {}
        for output in replayed:
            if isinstance(output, CryptoFeatures):
                last[output.symbol] = output
        signals = [msgspec.to_builtins(s) for s in replayed if isinstance(s, CryptoSignal)]
        await wait_for(lambda: len(received) >= len(signals))

        async with http.get("/features/latest", params={"symbol": "ZIL-USDT"}) as response:
            assert await response.json() == msgspec.to_builtins(last["ZIL-USDT"])
        async with http.get("/features/latest", params={"symbol": "XRP-USDT"}) as response:
            assert response.status == 404
        async with http.get("/state/latest") as response:
            assert await response.json() == {s: msgspec.to_builtins(f) for s, f in last.items()}
        async with http.get("/stats") as response:
            stats = await response.json()
        await socket.close()
        listening.cancel()
    await runner.cleanup()
    assert received == signals and len(signals) > 0
    assert stats["late"] == 0 and stats["features"] == sum(
        isinstance(o, CryptoFeatures) for o in replayed
    )
