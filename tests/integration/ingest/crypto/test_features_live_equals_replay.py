"""The features engine fed live from the log (micro-batches as messages arrive, order
restored by the reorder buffer) equals a replay of the same log in one batch."""

import asyncio

import msgspec

from compute.features import FeaturesConfig, finish, initial_state, step
from infra.bus import Bus
from ingest.binance.adapter import BinanceSource
from ingest.marketdata.service import MarketDataConfig, MarketDataService
from live.reorder import ReorderBuffer
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.events import Event
from schemas.ordering import canonical_sort
from schemas.subjects import RAW_STREAM
from tests.integration.ingest.crypto.test_binance_source import SPOT, SPOT_REST, config, servers
from tests.integration.ingest.crypto.test_marketdata_service import log_events, wait_for
from tests.kit.crypto_servers import Plan

# The loopback plays two minutes of frames in about a second: a short window and emission
# interval give many outputs to compare.
CONFIG = FeaturesConfig(
    window_ns=1_000_000_000, emit_interval_ns=5_000_000, min_trades=2, long_return_bps=0.5,
    short_return_bps=0.5, min_imbalance=0.1, max_spread_bps=50.0, signal_cooldown_ns=50_000_000,
    signal_return="ret_1s_bps",
)  # fmt: skip


async def test_live_features_from_the_log_equal_a_replay_of_it(bus: Bus) -> None:
    player, depth = await servers(SPOT, SPOT_REST, [Plan(pause_every=20, pause_s=0.01)])
    source = BinanceSource(config(SPOT, player, depth, silence_s=30.0))
    service = MarketDataService([source], bus, MarketDataConfig(batch_size=200))
    running = asyncio.create_task(service.run())
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    reorder = ReorderBuffer(allowed_lateness_ns=2_000_000_000)
    state = initial_state(CONFIG, "live")
    live: list[Event] = []
    batches = 0
    try:
        while source.normaliser.counters["CryptoTrade"] < 1910 or len(reorder) or batches < 3:
            for message in await reader.fetch(64, timeout_s=0.2):
                released = [e for event in message.events for e in reorder.push(event)]
                state, out = step(state, released)
                live.extend(out)
                batches += 1
            if source.normaliser.counters["CryptoTrade"] >= 1910:
                break
        service.stop()
        await running
        await wait_for(lambda: service.phase == "stopped")
        while batch := await reader.fetch(64, timeout_s=0.5):
            for message in batch:
                released = [e for event in message.events for e in reorder.push(event)]
                state, out = step(state, released)
                live.extend(out)
    finally:
        await reader.close()
        await player.stop()
        await depth.stop()
    state, out = step(state, reorder.flush())
    live.extend(out)
    state, tail = finish(state)
    live.extend(tail)

    replay_state = initial_state(CONFIG, "live")
    replay_state, replayed = step(replay_state, canonical_sort(await log_events(bus)))
    replay_state, tail = finish(replay_state)
    replayed.extend(tail)
    assert reorder.late == 0 and batches > 10
    assert sum(isinstance(e, CryptoFeatures) for e in replayed) > 100
    assert sum(isinstance(e, CryptoSignal) for e in replayed) > 0
    assert msgspec.msgpack.encode(live) == msgspec.msgpack.encode(replayed)
