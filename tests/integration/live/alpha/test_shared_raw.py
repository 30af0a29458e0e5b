"""The options flow and the CME market on one RAW stream, as `flowtape up` runs them: the
compute service and the alpha service each derive from their own events exactly what their
engine derives from those alone."""

from __future__ import annotations

import uuid
from pathlib import Path

import compute.flow as flow
from infra.bus import Bus
from infra.state import StateStore
from ingest.memory import IterableSource
from ingest.service import IngestService
from live.alpha.service import AlphaService
from live.compute_service import ComputeService
from schemas.cme import AlphaFrame
from tests.conftest import Servers
from tests.integration.live.alpha.session import (
    CONFIG,
    LATENESS_NS,
    cme_files,
    engine_frames,
    publish,
)
from tests.integration.live.sessions import session_events
from tests.integration.live.test_compute_service import by_type, derived, engine_outputs


async def test_compute_and_alpha_each_take_their_own_events_from_one_raw_stream(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    options = session_events(seed=11)
    await IngestService(IterableSource("synthetic", options), bus).run()
    files = cme_files(tmp_path).paths
    await publish(bus, files)

    run_id = f"live-{uuid.uuid4().hex[:8]}"
    store = StateStore.connect(servers.redis_url, run_id)
    compute = ComputeService(bus, store, flow.EngineConfig(), allowed_lateness_ns=3_600 * 10**9)
    metrics = await compute.run(until_idle=True, finish=True)
    await store.close()
    alpha = AlphaService(bus, CONFIG, run_id=run_id, allowed_lateness_ns=LATENESS_NS)
    await alpha.run(until_idle=True, finish_session=True)

    outputs = await derived(bus)
    frames = [event for event in outputs if isinstance(event, AlphaFrame)]
    flow_outputs = [event for event in outputs if not isinstance(event, AlphaFrame)]
    assert frames == engine_frames(files, run_id)
    assert by_type(flow_outputs) == by_type(engine_outputs(options, run_id))
    assert metrics.other_events > 0 and alpha.metrics.raw_events < metrics.raw_events
