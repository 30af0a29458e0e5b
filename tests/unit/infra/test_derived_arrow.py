"""The struct engine's events as the contract's tables: columns, types and values."""

from __future__ import annotations

import pyarrow as pa

from infra.warehouse import tables_for
from schemas.derived_tables import (
    FLOW_PACKETS,
    PACKET_PRINTS,
    PRINT_INFERENCE,
    STORED_PREFIX,
)
from tests.kit.derived import classifier_hit, flow_packet, leg, member, print_inference

PUT = "AAPL  240119P00180000"


def _stored(schema: pa.Schema) -> pa.Schema:
    return pa.unify_schemas([STORED_PREFIX, schema])


def test_each_derived_table_has_exactly_the_contracts_columns_and_types() -> None:
    events = [print_inference(), flow_packet(kind="sweep", n_prints=1)]
    tables = tables_for(events, run_id="r", log_seqs=[4, 5])
    assert tables["print_inference"].schema == _stored(PRINT_INFERENCE)
    assert tables["flow_packets"].schema == _stored(FLOW_PACKETS)
    assert tables["packet_prints"].schema == _stored(PACKET_PRINTS)
    assert tables["print_inference"].column("log_seq").to_pylist() == [4]
    assert tables["flow_packets"].column("log_seq").to_pylist() == [5]


def test_inference_rows_carry_the_right_and_the_premium_of_their_print() -> None:
    call = print_inference(price=1_500_000_000, size=10)
    put = print_inference(symbol=PUT, sequence=2, price=2_000_000_000, size=3)
    huge = print_inference(sequence=3, price=9 * 10**15, size=1_000_000)  # beyond int64 math
    table = tables_for([call, put, huge], run_id="r", log_seqs=[0, 0, 0])["print_inference"]
    assert table.column("right").to_pylist() == ["C", "P", "C"]
    # $1.50 x 10 x 100 = $1 500; $2 x 3 x 100 = $600; $9 000 000 x 1e6 x 100 = $9e14
    assert table.column("premium_cents").to_pylist() == [150_000, 60_000, 9 * 10**16]
    assert table.column("sequence").to_pylist() == [1, 2, 3]


def test_packet_rows_hold_typed_legs_bucket_columns_and_one_member_row_each() -> None:
    members = [member(sequence=1, bucket="A"), member(sequence=2, bucket="NA")]
    legs = [leg(instrument_id=7, venues=[20, 30]), leg(instrument_id=8, moneyness=0.25)]
    packet = flow_packet(
        packet_id="p", kind="multi_leg", n_prints=2, ts_start=900, members=members, legs=legs,
        bucket_counts={"A": 1, "NA": 1},
    )  # fmt: skip
    tables = tables_for([packet], run_id="r", log_seqs=[9])
    row = tables["flow_packets"].to_pylist()[0]
    assert [(b, row[b]) for b in ("bucket_aa", "bucket_a", "bucket_na")] == [
        ("bucket_aa", 0), ("bucket_a", 1), ("bucket_na", 1),
    ]  # fmt: skip
    assert [(x["instrument_id"], x["venues"], x["moneyness"]) for x in row["legs"]] == [
        (7, [20, 30], None), (8, [20], 0.25),
    ]  # fmt: skip
    prints = tables["packet_prints"].to_pylist()
    assert [(p["packet_id"], p["sequence"], p["log_seq"]) for p in prints] == [
        ("p", 1, 9), ("p", 2, 9),
    ]  # fmt: skip


def test_a_single_is_stored_only_beside_a_hit_or_an_alert_that_names_it() -> None:
    lone = flow_packet(packet_id="lone", kind="single")
    named = flow_packet(packet_id="named", kind="single")
    assert "flow_packets" not in tables_for([lone, named], run_id="r", log_seqs=[1, 1])
    with_hit = tables_for([lone, named, classifier_hit(packet_id="named")], run_id="r",
                          log_seqs=[1, 1, 2])  # fmt: skip
    assert with_hit["flow_packets"].column("packet_id").to_pylist() == ["named"]
    assert with_hit["flow_packets"].column("log_seq").to_pylist() == [1]
