"""Migration 0008 upgrades a database holding the first derived layout to the slim one."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from infra.migrate import applied_versions, available_migrations, migrate
from infra.warehouse import Warehouse
from tests.conftest import Servers

SLIM = 8
T = "toDateTime64('2024-01-03 14:30:00', 9, 'UTC')"
CALL = "AAPL  240119C00190000"
PUT = "AAPL  240119P00180000"
LEG = (
    '{"instrument_id":7,"symbol":"AAPL  240119C00190000","right":"C",'
    '"strike_price":190000000000,"expiration_date":20240119,"side":"buy","size":10,'
    '"premium_cents":150000,"n_prints":2,"venues":[20,30],"vwap_px":1500000000,"ratio":1,'
    '"moneyness":null,"dte":3,"day_volume":10,"open_interest":null}'
)


def _packet(packet_id: str, kind: str, n_prints: int, seconds: int) -> str:
    return (
        f"('r', 1, '{packet_id}', '{kind}', '', 'AAPL', {T} + {seconds}, {T} + {seconds}, "
        f"{T} + {seconds}, 'buy', 150000, 10, {n_prints}, [20, 30], 1, '[{LEG}]', "
        "map('A', 1, 'NA', 2), 1.0, 0.5, NULL, false, 1)"
    )


def _member(packet_id: str, sequence: int, seconds: int) -> str:
    return (
        f"('r', 1, '{packet_id}', 'AAPL', {T} + {seconds}, 7, 20, {T} + {seconds}, {sequence}, "
        "1500000000, 5, 'buy', 'A', 1400000000, 1500000000)"
    )


@pytest.fixture
def first_layout(servers: Servers) -> Iterator[Warehouse]:
    """A database migrated up to the version before the slim layout, holding derived rows."""
    warehouse = Warehouse.connect(servers.clickhouse_url, f"test_{uuid.uuid4().hex[:12]}")
    applied_versions(warehouse)  # creates schema_migrations
    for migration in available_migrations():
        if migration.version >= SLIM:
            continue
        for statement in migration.statements():
            warehouse.command(statement)
        warehouse.command(
            "INSERT INTO schema_migrations (version, name) VALUES ({v:UInt32}, {n:String})",
            {"v": migration.version, "n": migration.name},
        )
    warehouse.command(
        "INSERT INTO print_inference (run_id, log_seq, ts_recv, ts_event, publisher_id, "  # noqa: S608  (constant test rows)
        "instrument_id, sequence, symbol, underlying, price, size, side, bucket, rule, "
        "confidence, nbbo_status, nbbo_bid_px, nbbo_ask_px, nbbo_bid_sz, nbbo_ask_sz, "
        "nbbo_ts_recv, late, schema_version) VALUES "
        f"('r', 1, {T} + 1, {T}, 20, 7, 1, '{CALL}', 'AAPL', 1500000000, 5, 'buy', 'A', "
        f"'quote', 0.83, 'joined', 1400000000, 1500000000, 3, 4, {T}, false, 1), "
        f"('r', 1, {T} + 31, {T} + 30, 20, 8, 9, '{PUT}', 'AAPL', 2000000000, 3, 'sell', 'B', "
        "'quote', 0.7, 'stale', NULL, NULL, NULL, NULL, NULL, true, 1)"
    )
    packets = [
        _packet("sweep", "sweep", 2, 0),
        _packet("block", "block", 1, 10),
        _packet("flagged", "single", 1, 20),
        _packet("lone", "single", 1, 30),
    ]
    warehouse.command(f"INSERT INTO flow_packets VALUES {', '.join(packets)}")  # noqa: S608  (constant test rows)
    members = [_member("sweep", 1, 0), _member("sweep", 2, 0), _member("block", 3, 10),
               _member("flagged", 4, 20), _member("lone", 9, 30)]  # fmt: skip
    warehouse.command(f"INSERT INTO packet_prints VALUES {', '.join(members)}")  # noqa: S608  (constant test rows)
    warehouse.command(
        "INSERT INTO classifier_hits (run_id, log_seq, hit_id, packet_id, rule, ts_event, "  # noqa: S608  (constant test rows)
        f"ts_recv, underlying) VALUES ('r', 1, 'h', 'flagged', 'spike', {T}, {T}, 'AAPL')"
    )
    try:
        yield warehouse
    finally:
        warehouse.command(f"DROP DATABASE IF EXISTS `{warehouse.database}`")
        warehouse.close()


def _slim_rows(warehouse: Warehouse) -> dict[str, list[tuple[object, ...]]]:
    return {
        "inference": warehouse.rows(
            "SELECT instrument_id, sequence, right, premium_cents, side, nbbo_status, late "
            "FROM print_inference ORDER BY sequence"
        ),
        "packets": warehouse.rows(
            "SELECT packet_id, legs.symbol, legs.venues, bucket_a, bucket_na, bucket_aa "
            "FROM flow_packets ORDER BY packet_id"
        ),
        "members": warehouse.rows(
            "SELECT packet_id, sequence FROM packet_prints ORDER BY packet_id, sequence"
        ),
        "daily": warehouse.rows(
            "SELECT sum(packets), sum(blocks), sum(sweeps), sum(hits) FROM flow_daily"
        ),
        "net": warehouse.rows(
            "SELECT sum(call_buy_cents), sum(put_sell_cents) FROM net_premium_minute"
        ),
    }


def test_the_slim_migration_converts_stored_rows_and_drops_lone_singles(
    first_layout: Warehouse,
) -> None:
    later = [m.version for m in available_migrations() if m.version >= SLIM]
    assert [m.version for m in migrate(first_layout)] == later
    rows = _slim_rows(first_layout)
    # premium = price x size x 100 / 1e7 cents: 1.50 x 5 x 100 = $750; 2.00 x 3 x 100 = $600
    assert rows["inference"] == [(7, 1, "C", 75_000, "buy", "joined", False),
                                 (8, 9, "P", 60_000, "sell", "stale", True)]  # fmt: skip
    legs = ([CALL], [[20, 30]])
    assert rows["packets"] == [("block", *legs, 1, 2, 0), ("flagged", *legs, 1, 2, 0),
                               ("sweep", *legs, 1, 2, 0)]  # fmt: skip
    assert rows["members"] == [("block", 3), ("flagged", 4), ("sweep", 1), ("sweep", 2)]
    assert rows["daily"] == [(3, 1, 1, 1)]
    assert rows["net"] == [(75_000, 60_000)]
    columns = {str(r[0]) for r in first_layout.rows("DESCRIBE TABLE print_inference")}
    assert not columns & {"symbol", "price", "size", "ts_recv"}


def test_the_slim_migration_run_again_leaves_the_slim_tables_as_they_were(
    first_layout: Warehouse,
) -> None:
    migrate(first_layout)
    before = _slim_rows(first_layout)
    first_layout.command("DELETE FROM schema_migrations WHERE version = {v:UInt32}", {"v": SLIM})
    assert [m.version for m in migrate(first_layout)] == [SLIM]
    assert _slim_rows(first_layout) == before
    columns = {str(r[0]) for r in first_layout.rows("DESCRIBE TABLE flow_packets")}
    assert "bucket_counts" not in columns


def test_a_dropped_slim_table_comes_back_in_its_slim_layout(first_layout: Warehouse) -> None:
    migrate(first_layout)
    first_layout.command("DROP TABLE flow_packets")
    migrate(first_layout)
    columns = {str(r[0]) for r in first_layout.rows("DESCRIBE TABLE flow_packets")}
    assert {"bucket_aa", "legs"} <= columns and "bucket_counts" not in columns
    tables = {str(r[0]) for r in first_layout.rows("SHOW TABLES")}
    assert not {name for name in tables if name.endswith("_0008")}
