"""Live/replay parity: one synthetic session live through JetStream, replayed from its DBN
files and from ClickHouse, derives identical tables."""

from __future__ import annotations

import datetime as dt

import pytest

import compute
from analytics.parity import DERIVED_TABLES, RAW_TABLES, fingerprints
from infra.bus import Bus
from infra.state import StateStore
from infra.warehouse import Warehouse
from ingest.memory import IterableSource
from ingest.service import IngestService
from live.compute_service import ComputeService
from live.sink.service import Sink
from replay.driver import replay_events
from replay.sources import dbn_events, stored_events
from tests.conftest import Servers
from tests.integration.live.sessions import session_events, session_files

pytestmark = pytest.mark.slow

SEED = 21
LATENESS_NS = 3_600 * 10**9  # the session goes through the log far faster than real time


async def test_live_and_both_replays_derive_identical_tables(
    bus: Bus, servers: Servers, fresh_warehouse: Warehouse
) -> None:
    events = session_events(SEED)
    config = compute.EngineConfig()

    # live: ingest -> RAW -> compute -> DERIVED -> sink -> ClickHouse
    await IngestService(IterableSource("databento", events), bus).run()
    store = StateStore.connect(servers.redis_url, "live")
    await store.clear()
    service = ComputeService(bus, store, config, allowed_lateness_ns=LATENESS_NS)
    await service.run(until_idle=True, finish=True)
    await store.clear()
    await store.close()
    await Sink(bus, fresh_warehouse).run_until_idle()

    # replay from the DBN files, and from the live run's raw tables
    files = [p for p in session_files(SEED) if p.suffix == ".zst"]
    replayed, _ = dbn_events(files)
    replay_events(replayed, run_id="replay-dbn", config=config, warehouse=fresh_warehouse)
    day = dt.datetime.fromtimestamp(events[0].ts_recv // 10**9, dt.UTC).date().isoformat()  # type: ignore[attr-defined]
    stored = stored_events(fresh_warehouse, "live", day)
    replay_events(stored, run_id="replay-ch", config=config, warehouse=fresh_warehouse)

    live = fingerprints(fresh_warehouse, "live")
    assert live["print_inference"][0] > 1000 and live["flow_packets"][0] > 100
    assert live["classifier_hits"][0] > 0 and live["alerts"][0] > 0
    assert fingerprints(fresh_warehouse, "replay-dbn") == live
    assert fingerprints(fresh_warehouse, "replay-ch") == live
    raw = fingerprints(fresh_warehouse, "live", RAW_TABLES)
    assert fingerprints(fresh_warehouse, "replay-dbn", RAW_TABLES) == raw
    assert set(DERIVED_TABLES) <= set(live)
