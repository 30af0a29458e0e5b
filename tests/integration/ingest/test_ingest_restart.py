"""The ingest service started again on the same log: the synthetic market continues, and a
source replaying what the log holds says so in the log, its metrics and /health."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from infra.bus import Bus
from infra.warehouse import Warehouse
from ingest.memory import IterableSource
from ingest.service import METRICS_FILE, IngestConfig, IngestService
from ingest.synthetic.source import SyntheticSource
from synth.config import SynthConfig
from tests.conftest import Servers
from tests.integration.api.conftest import api_settings, serving
from tests.integration.ingest.test_ingest_service import session, stored_events

pytestmark = pytest.mark.slow

SMALL_MARKET = SynthConfig(seed=4, minutes=1, n_underlyings=2)


async def test_a_restarted_synthetic_market_publishes_a_new_session_after_the_log(
    bus: Bus,
) -> None:
    await IngestService(SyntheticSource(SMALL_MARKET, speed=0), bus).run()
    before = await stored_events(bus)
    last_before = max(e.ts_recv for e in before)

    second = await IngestService(SyntheticSource(SMALL_MARKET, speed=0), bus).run()

    assert second.repeats_skipped == 0
    assert second.published_messages > 0 and second.events["OptionPrint"] > 0
    added = (await stored_events(bus))[len(before) :]
    assert len(added) == sum(second.events.values())
    assert min(e.ts_recv for e in added) > last_before


async def test_a_source_replaying_the_log_warns_counts_and_shows_in_health(
    bus: Bus,
    servers: Servers,
    fresh_warehouse: Warehouse,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events = session(200)
    await IngestService(IterableSource("synthetic", events), bus).run()
    metrics_path = tmp_path / METRICS_FILE.format(source="synthetic")
    config = IngestConfig(repeat_warning_interval_s=3600.0)

    with caplog.at_level(logging.WARNING, logger="ingest.service"):
        replay = IngestService(IterableSource("synthetic", events), bus, config,
                               metrics_path=metrics_path)  # fmt: skip
        metrics = await replay.run()

    assert metrics.repeats_skipped == len(events) and metrics.published_messages == 0
    warnings = [r.getMessage() for r in caplog.records if "skipped as repeats" in r.getMessage()]
    assert len(warnings) == 2  # the first skip at once, the rest when the run ends
    assert "source synthetic: 1 events skipped" in warnings[0]
    assert f"{len(events) - 1} events skipped" in warnings[1]
    assert f"{len(events)} since start" in warnings[1]
    assert json.loads(metrics_path.read_text())["repeats_skipped"] == len(events)

    settings = api_settings(
        tmp_path, servers.nats_url, servers.clickhouse_url, fresh_warehouse.database
    )
    async with (
        serving(create_app(settings)) as api,
        httpx.AsyncClient(base_url=api.base_url, timeout=30) as client,
    ):
        body = (await client.get("/health")).json()
    assert body["ingest"]["synthetic"]["repeats_skipped"] == len(events)
