"""The derived tables' contract: which packets get a row, a print's premium, a single's id."""

from __future__ import annotations

import pytest

import compute.flow as flow
from schemas.derived_tables import (
    FLOW_PACKETS,
    PACKET_PRINTS,
    PRINT_INFERENCE,
    PRINT_KEY,
    packet_gets_row,
    packet_id_of_print,
    premium_cents,
)
from schemas.events import FlowPacket
from tests.kit.events import option_contract, option_print


@pytest.mark.parametrize(
    ("kind", "n_prints", "flagged", "stored"),
    [
        ("single", 1, False, False),
        ("single", 1, True, True),
        ("block", 1, False, True),
        ("sweep", 3, False, True),
        ("split", 2, False, True),
        ("multi_leg", 2, False, True),
    ],
)
def test_only_a_lone_unflagged_single_goes_without_a_row(
    kind: str, n_prints: int, flagged: bool, stored: bool
) -> None:
    assert packet_gets_row(kind, n_prints, flagged) is stored


def test_premium_is_price_times_size_times_multiplier_in_cents() -> None:
    # $1.50 x 10 lots x 100 shares = $1 500
    assert premium_cents(1_500_000_000, 10) == 150_000
    assert premium_cents(1_500_000_000, 10, multiplier=10) == 15_000
    assert premium_cents(1_234_567, 1) == 12  # $0.001234567 x 100 = 12.34567 cents, down


def test_the_print_key_leads_every_per_print_table_and_no_print_column_is_copied() -> None:
    for schema in (PRINT_INFERENCE, PACKET_PRINTS):
        assert set(PRINT_KEY) <= set(schema.names)
    assert not {"symbol", "price", "size", "ts_recv"} & set(PRINT_INFERENCE.names)
    assert not {"legs_json", "bucket_counts", "members"} & set(FLOW_PACKETS.names)


def test_a_singles_id_computed_from_its_print_key_is_the_id_the_engine_gave_it() -> None:
    state = flow.initial_state(flow.EngineConfig(), "run-7")
    trade = option_print(ts_recv=2_000, ts_event=1_900, publisher_id=22, sequence=41, size=1)
    state, _ = flow.step(state, [option_contract(), trade])
    _, closing = flow.finish(state)
    [single] = [e for e in closing if isinstance(e, FlowPacket)]
    assert single.kind == "single"
    key = (trade.instrument_id, trade.publisher_id, trade.ts_event, trade.sequence)
    assert packet_id_of_print("run-7", *key) == single.packet_id
    assert packet_id_of_print("run-8", *key) != single.packet_id
