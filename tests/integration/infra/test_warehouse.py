from pathlib import Path

from infra.embedded import clickhouse_server
from infra.migrate import applied_versions, available_migrations, migrate
from infra.warehouse import PACKET_PRINTS, TABLES, Warehouse, tables_for
from schemas.events import MemberPrint
from tests.conftest import Servers
from tests.integration.live.session import (
    assert_views_match_base_tables,
    build_session,
    store_reference,
)
from tests.kit.derived import alert, classifier_hit, flow_packet
from tests.kit.events import (
    SYMBOL,
    heartbeat,
    option_contract,
    option_print,
    option_quote,
    quarantined,
)
from tests.kit.samples import one_of_each_event


def test_migrations_apply_once_and_are_safe_to_run_again(fresh_warehouse: Warehouse) -> None:
    assert migrate(fresh_warehouse) == []
    assert applied_versions(fresh_warehouse) == {m.version for m in available_migrations()}
    tables = {row[0] for row in fresh_warehouse.rows("SHOW TABLES")}
    assert {*TABLES.values(), PACKET_PRINTS, "runs", "schema_migrations"} <= tables


def test_every_stored_event_type_matches_its_table_columns(warehouse: Warehouse) -> None:
    for table, data in tables_for(one_of_each_event(), run_id="live", log_seqs=[1] * 14).items():
        stored = [
            row[0]
            for row in warehouse.rows(
                "SELECT name FROM system.columns WHERE database = currentDatabase() "
                "AND table = {t:String} AND default_kind != 'MATERIALIZED'",
                {"t": table},
            )
        ]
        assert sorted(data.column_names) == sorted(stored), table


def test_insert_and_query_round_trip_with_nulls_for_undefined_values(
    fresh_warehouse: Warehouse,
) -> None:
    contract = option_contract(
        ts_recv=1_700_000_000_000_000_001, ts_event=1_700_000_000_000_000_000, expiration=None
    )
    quote = option_quote(
        ts_recv=1_700_000_000_000_000_002, ts_event=1_700_000_000_000_000_001, sequence=3,
        bid_px=None, ask_px=1_250_000_000, bid_sz=0, ask_sz=5,
    )  # fmt: skip
    trade = option_print(ts_recv=1_700_000_000_000_000_003)
    counts = fresh_warehouse.insert_events(
        [contract, quote, trade, heartbeat(ts_recv=1, source="x")], run_id="live", log_seq=42
    )
    assert counts == {"contracts": 1, "option_quotes": 1, "option_prints": 1}
    assert fresh_warehouse.rows(
        "SELECT expiration IS NULL, toUnixTimestamp64Nano(ts_recv), log_seq, run_id FROM contracts"
    ) == [(1, 1_700_000_000_000_000_001, 42, "live")]
    assert fresh_warehouse.rows("SELECT bid_px, ask_px FROM option_quotes") == [
        (None, 1_250_000_000)
    ]
    assert fresh_warehouse.rows(
        "SELECT symbol, price, size, bid_px IS NULL FROM option_prints"
    ) == [(SYMBOL, 1_500_000_000, 10, 1)]
    assert fresh_warehouse.max_log_seq("option_prints") == 42
    assert fresh_warehouse.max_log_seq("alerts") == 0


def test_flow_packet_members_become_packet_print_rows(fresh_warehouse: Warehouse) -> None:
    packet = next(e for e in one_of_each_event() if type(e).__name__ == "FlowPacket")
    fresh_warehouse.insert_events([packet], run_id="ignored", log_seq=5)
    member: MemberPrint = packet.members[0]  # type: ignore[attr-defined]
    assert fresh_warehouse.rows(
        "SELECT run_id, log_seq, packet_id, instrument_id, publisher_id, sequence "
        "FROM packet_prints"
    ) == [("ignored", 5, "pkt-1", member.instrument_id, member.publisher_id, member.sequence)]
    assert fresh_warehouse.rows(
        "SELECT run_id, bucket_a, bucket_na, venues, legs.symbol FROM flow_packets"
    ) == [("ignored", 1, 0, [20, 30], [SYMBOL])]


def test_a_lone_single_gets_a_row_only_when_a_hit_or_an_alert_names_it(
    fresh_warehouse: Warehouse,
) -> None:
    lone = flow_packet(packet_id="lone", kind="single")
    flagged = flow_packet(packet_id="flagged", kind="single")
    block = flow_packet(packet_id="big", kind="block")
    alerted = flow_packet(packet_id="alerted", kind="single")
    events = [lone, flagged, block, alerted, classifier_hit(packet_id="flagged"),
              alert(packet_id="alerted")]  # fmt: skip
    counts = fresh_warehouse.insert_events(events, run_id="live")
    assert counts["flow_packets"] == counts["packet_prints"] == 3
    stored = fresh_warehouse.rows("SELECT packet_id FROM flow_packets ORDER BY packet_id")
    assert stored == [("alerted",), ("big",), ("flagged",)]


def test_quarantine_keeps_the_raw_bytes(fresh_warehouse: Warehouse) -> None:
    bad = quarantined(ts_recv=5, reason="malformed_dbn", payload=b"\x00\xff")
    fresh_warehouse.insert_events([bad], run_id="live", log_seq=1)
    assert fresh_warehouse.rows("SELECT reason, hex(payload) FROM quarantine") == [
        ("malformed_dbn", "00FF")
    ]


def test_urls_name_the_database(servers: Servers) -> None:
    wh = Warehouse.connect(f"{servers.clickhouse_url}/named_db_test")
    assert wh.scalar("SELECT currentDatabase()") == "named_db_test"
    wh.command("DROP DATABASE named_db_test")
    wh.close()


def test_query_log_is_kept_only_when_asked_for(servers: Servers, tmp_path: Path) -> None:
    with Warehouse.connect(servers.clickhouse_url) as shared:
        assert shared.scalar("EXISTS TABLE system.query_log") == 0
    logging = clickhouse_server(tmp_path / "clickhouse", query_log=True)
    logging.start()
    try:
        with Warehouse.connect(logging.url, "logged") as warehouse:
            warehouse.scalar("SELECT 41 + 1 AS marked")
            warehouse.command("SYSTEM FLUSH LOGS")
            logged = warehouse.scalar(
                "SELECT count() FROM system.query_log"
                " WHERE type = 'QueryFinish' AND query LIKE '%41 + 1 AS marked%'"
            )
            assert logged == 1
            assert warehouse.scalar("EXISTS TABLE system.part_log") == 1
    finally:
        logging.stop()


def test_market_events_read_back_equal_to_what_was_stored(fresh_warehouse: Warehouse) -> None:
    from infra.warehouse import MARKET_EVENTS

    events = one_of_each_event()
    fresh_warehouse.insert_events(events, run_id="live", log_seq=1)
    for event in events:
        if type(event) in MARKET_EVENTS:
            assert fresh_warehouse.read_events(type(event), run_id="live") == [event]
            assert fresh_warehouse.read_events(type(event), run_id="other") == []


def test_candle_tables_rebuilt_by_a_migration_hold_the_prints_stored_before_it(
    fresh_warehouse: Warehouse,
) -> None:
    # Prints stored while the candle views are missing, as before migration 0004 existed:
    fresh_warehouse.command("DROP VIEW candles_contract_mv")
    fresh_warehouse.command("DROP VIEW candles_equity_mv")
    store_reference(fresh_warehouse, build_session(prints=600))
    assert fresh_warehouse.scalar("SELECT count() FROM candles_contract") == 0
    fresh_warehouse.command("DELETE FROM schema_migrations WHERE version >= 4")
    from_four = [m.version for m in available_migrations() if m.version >= 4]
    assert [m.version for m in migrate(fresh_warehouse)] == from_four
    assert_views_match_base_tables(fresh_warehouse)  # the rebuilt candles among them
