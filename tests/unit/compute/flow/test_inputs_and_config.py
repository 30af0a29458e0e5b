"""Bad input becomes Quarantined output; config mirrors the seed settings; SQL mirrors structs."""

from __future__ import annotations

import re
from pathlib import Path

import msgspec
import pytest

from compute.flow import EngineConfig, config_from_settings
from schemas.events import (
    Alert,
    ClassifierHit,
    DarkPoolEvent,
    FlowPacket,
    MemberPrint,
    PrintInference,
    Quarantined,
)
from tests.kit.events import option_print
from tests.unit.compute.flow.session import MS, T0, Contract, packets, run

MIGRATION = Path(__file__).resolve().parents[4] / "sql" / "migrations" / "0001_events.sql"


def test_print_of_an_unknown_contract_with_a_non_occ_symbol_is_quarantined() -> None:
    bad = option_print(
        ts_recv=T0, ts_event=T0, instrument_id=77, source="t", symbol="NOT-A-SYMBOL",
        price=10**9, size=1,
    )  # fmt: skip
    out = run([bad])
    [q] = [e for e in out if isinstance(e, Quarantined)]
    assert (q.reason, q.source, q.ts_recv) == ("unknown_contract", "compute", T0)
    assert q.payload  # the event as it came, for later inspection
    assert packets(out) == []


def test_print_without_definition_but_with_an_occ_symbol_is_processed() -> None:
    c = Contract(5, 250.0, "P")
    [packet] = packets(run([c.quote(T0 - MS, 0.9, 1.0), c.trade(T0, 1.0, 3, 20)]))
    assert (packet.legs[0].right, packet.legs[0].strike_price) == ("P", 250 * 10**9)


def test_print_with_zero_size_is_quarantined_not_crashed_on() -> None:
    c = Contract(1)
    out = run([c.definition(), c.trade(T0, 1.0, 0, 20)])
    assert [e.reason for e in out if isinstance(e, Quarantined)] == ["bad_print"]


def test_a_derived_event_fed_back_as_input_is_quarantined() -> None:
    c = Contract(1)
    derived = [e for e in run([c.definition(), c.trade(T0, 1.0, 1, 20)])][0]
    out = run([derived])
    assert [e.reason for e in out if isinstance(e, Quarantined)] == ["not_raw_event"]


def test_config_takes_seed_settings_in_their_units() -> None:
    config = config_from_settings(
        {"NBBO_MAX_AGE_MS": "250", "CLASSIFIER_SWEEP_MIN_PREMIUM": "50000",
         "CLASSIFIER_SPIKE_MIN_PREMIUM_Z": "3.5", "ROLLING_WINDOW_SIZE": "20", "OTHER": "x"}
    )  # fmt: skip
    assert config.nbbo_max_age_ns == 250 * MS
    assert config.classifier_sweep_min_premium_cents == 5_000_000
    assert config.classifier_spike_min_premium_z == 3.5
    assert config.rolling_window_size == 20
    assert config_from_settings({}) == EngineConfig()
    with pytest.raises(ValueError, match="NBBO_MAX_AGE_MS"):
        config_from_settings({"NBBO_MAX_AGE_MS": "soon"})


def test_config_rejects_unknown_fields_and_impossible_values() -> None:
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"nbbo_max_age": 5}', type=EngineConfig)
    with pytest.raises(ValueError, match="cluster_window_ns"):
        EngineConfig(cluster_window_ns=0)
    with pytest.raises(ValueError, match="default_tier"):
        EngineConfig(default_tier="giant")
    with pytest.raises(ValueError, match="unusual_volume_min_days"):
        EngineConfig(unusual_volume_days=5)  # fewer kept than the 10 needed


def columns(table: str) -> set[str]:
    sql = MIGRATION.read_text()
    body = re.search(rf"CREATE TABLE IF NOT EXISTS {table} \((.*?)\) ENGINE", sql, re.S)
    assert body is not None, table
    return {line.split()[0] for line in body.group(1).splitlines() if line.strip()}


@pytest.mark.parametrize(
    ("table", "struct", "elsewhere"),
    [
        ("print_inference", PrintInference, set()),
        ("flow_packets", FlowPacket, {"members"}),  # one row per member in packet_prints
        ("classifier_hits", ClassifierHit, set()),
        ("alerts", Alert, set()),
        ("darkpool_events", DarkPoolEvent, set()),
    ],
)
def test_derived_tables_have_a_column_for_every_field(
    table: str, struct: type[msgspec.Struct], elsewhere: set[str]
) -> None:
    assert set(struct.__struct_fields__) - elsewhere <= columns(table)


def test_packet_prints_table_holds_every_member_field() -> None:
    assert set(MemberPrint.__struct_fields__) <= columns("packet_prints")
