"""A DBN replay read as raw Arrow tables stores exactly what the event path stores: every
raw, quarantine and derived table, and the candle views."""

from __future__ import annotations

from pathlib import Path

import pytest

import compute.flow as flow
from analytics.parity import DERIVED_TABLES, RAW_TABLES, fingerprints
from infra.warehouse import Warehouse
from replay.driver import replay_events, replay_tables
from replay.sources import dbn_events, dbn_table_chunks
from synth.config import SynthConfig
from synth.session import generate_session, write_session
from tests.integration.replay.test_driver import CANDLES
from tests.unit.replay.test_dbn_tables import bad_session, quote_session

STORED = (*RAW_TABLES, *DERIVED_TABLES, "quarantine", "gaps")


def assert_same_replays(warehouse: Warehouse, paths: list[Path], chunk: int) -> None:
    config = flow.EngineConfig()
    by_events = replay_events(
        dbn_events(paths)[0], run_id="events", config=config, warehouse=warehouse,
        chunk_size=chunk,
    )  # fmt: skip
    reported: list[tuple[int, int]] = []
    by_tables = replay_tables(
        dbn_table_chunks(paths, chunk)[0], run_id="tables", config=config,
        warehouse=warehouse, progress=lambda n, ts: reported.append((n, ts)),
    )  # fmt: skip
    assert by_tables.events == by_events.events == sum(n for n, _ in reported)
    assert by_tables.raw == by_events.raw
    assert by_tables.outputs == by_events.outputs
    assert by_tables.packets_by_kind == by_events.packets_by_kind
    assert by_tables.truncated == by_events.truncated
    assert [ts for _, ts in reported] == sorted(ts for _, ts in reported)
    assert fingerprints(warehouse, "tables", STORED) == fingerprints(warehouse, "events", STORED)
    assert warehouse.rows(CANDLES, {"run": "tables"}) == warehouse.rows(CANDLES, {"run": "events"})


def test_a_synthetic_session_stores_what_the_event_path_stores(
    fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    session = generate_session(SynthConfig(seed=11, minutes=2))
    paths = [p for p in write_session(session, tmp_path) if p.suffix == ".zst"]
    assert_same_replays(fresh_warehouse, paths, chunk=20_000)
    stored = fingerprints(fresh_warehouse, "tables", STORED)
    assert stored["option_prints"][0] > 1000 and stored["flow_packets"][0] > 10


@pytest.mark.parametrize("session", [bad_session, quote_session])
def test_sessions_with_bad_rows_store_what_the_event_path_stores(
    fresh_warehouse: Warehouse, tmp_path: Path, session
) -> None:
    paths = session(tmp_path)
    assert_same_replays(fresh_warehouse, paths, chunk=3)
    assert fingerprints(fresh_warehouse, "tables", ("quarantine",))["quarantine"][0] > 3


def test_the_databento_samples_store_what_the_event_path_stores(
    fresh_warehouse: Warehouse, shared_data: Path
) -> None:
    assert_same_replays(fresh_warehouse, sorted(shared_data.glob("*/*.dbn.zst")), chunk=7)
