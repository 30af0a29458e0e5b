"""The features service's outputs go to DERIVED and, through the sink, into ClickHouse once
each, equal to a replay of the same log stored directly."""

import asyncio

from infra.bus import Bus
from infra.warehouse import TABLES, Warehouse
from live.features.service import FeaturesService
from live.sink.config import SinkConfig
from live.sink.service import Sink
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.subjects import DERIVED_STREAM
from tests.integration.live.features.test_features_service import (
    CONFIG,
    recorded_events,
    replay,
    run_over,
)

FEATURES, SIGNALS = TABLES[CryptoFeatures], TABLES[CryptoSignal]
SMALL_BATCHES = SinkConfig(batch_rows=300, fetch_messages=8, batch_wait_s=0.2)


def content(warehouse: Warehouse, table: str) -> tuple[int, int]:
    """Row count and a hash over every column but the log position."""
    digest = "sum(cityHash64(tuple(* EXCEPT (log_seq))))"
    row = warehouse.rows(f"SELECT count(), {digest} FROM `{table}`")  # noqa: S608
    return int(row[0][0]), int(row[0][1])


async def test_live_features_are_stored_once_and_equal_a_replay(
    bus: Bus, fresh_warehouse: Warehouse, reference: Warehouse
) -> None:
    events = recorded_events()
    service = FeaturesService(bus, CONFIG)
    await run_over(service, asyncio.create_task(service.run()), events)
    replayed = replay(events)
    reference.insert_events(replayed, run_id="live")
    features = sum(isinstance(e, CryptoFeatures) for e in replayed)
    signals = sum(isinstance(e, CryptoSignal) for e in replayed)
    assert features > 100 and signals > 0
    assert service.counts["published_crypto_features"] == features
    assert service.counts["published_crypto_signal"] == signals

    await Sink(bus, fresh_warehouse, config=SMALL_BATCHES).run_until_idle()
    restarted = Sink(bus, fresh_warehouse, config=SMALL_BATCHES)  # stores nothing new
    derived = await restarted.run_until_idle()
    assert derived.streams[DERIVED_STREAM].rows_total == 0
    assert content(fresh_warehouse, FEATURES) == content(reference, FEATURES)
    assert content(fresh_warehouse, SIGNALS) == content(reference, SIGNALS)
    assert content(fresh_warehouse, FEATURES)[0] == features
    assert content(fresh_warehouse, SIGNALS)[0] == signals
