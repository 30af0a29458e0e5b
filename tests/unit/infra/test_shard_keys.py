"""Which shard a row goes to, and how a migration statement reads on a shard."""

from __future__ import annotations

import zlib

import pyarrow as pa
import pytest

from infra.migrate import available_migrations, localised, sharded_tables
from infra.sharding import (
    ShardingError,
    key_column,
    key_of_sharding,
    shard_numbers,
    split_by_shard,
)


def test_a_row_goes_to_the_crc32_of_its_key_modulo_the_shard_count() -> None:
    keys = pa.chunked_array([["SPY", "AAPL"], ["SPY", "QQQ", "TSLA"]])
    # zlib.crc32 by hand: SPY 968359423 (odd), the others as computed here
    want = [zlib.crc32(k.encode()) % 2 for k in ("SPY", "AAPL", "SPY", "QQQ", "TSLA")]
    assert want[0] == 968359423 % 2 == 1
    assert shard_numbers(keys, 2).tolist() == want
    assert shard_numbers(pa.array([], pa.string()), 2).tolist() == []


def test_rows_split_by_shard_keep_their_order_and_all_rows() -> None:
    data = pa.table({"underlying": ["SPY", "AAPL", "SPY", "QQQ", "AAPL"], "n": [0, 1, 2, 3, 4]})
    parts = split_by_shard(data, "underlying", 2)
    assert sorted(n for part in parts.values() for n in part.column("n").to_pylist()) == [
        0, 1, 2, 3, 4,
    ]  # fmt: skip
    for shard, part in parts.items():
        assert part.column("n").to_pylist() == sorted(part.column("n").to_pylist())
        assert all(
            zlib.crc32(u.encode()) % 2 == shard for u in part.column("underlying").to_pylist()
        )
    assert split_by_shard(data, "underlying", 1) == {0: data}


def test_the_key_is_the_packet_for_packet_tables_then_underlying_symbol_root_run() -> None:
    assert key_column("packet_prints", ["run_id", "packet_id"]) == "packet_id"
    assert key_column("flow_packets", ["run_id", "packet_id", "underlying"]) == "packet_id"
    assert key_column("option_prints", ["run_id", "symbol", "underlying"]) == "underlying"
    assert key_column("equity_prints", ["run_id", "symbol"]) == "symbol"
    assert key_column("alpha_frames", ["run_id", "root"]) == "root"
    assert key_column("quarantine", ["run_id", "source"]) == "run_id"
    with pytest.raises(ShardingError, match="one of the columns"):
        key_column("odd", ["a"])


def test_the_key_column_is_read_back_from_the_distributed_engine() -> None:
    engine = "Distributed('flowtape', 'db', 'flow_packets_local', CRC32(packet_id))"
    assert key_of_sharding("flow_packets", engine) == "packet_id"
    with pytest.raises(ShardingError, match="sharded by CRC32"):
        key_of_sharding("t", "Distributed('flowtape', 'db', 't_local', rand())")


def test_a_shard_runs_statements_on_local_tables_but_plain_views_read_distributed() -> None:
    sharded = frozenset({"alerts", "flow_daily", "flow_packets", "option_prints"})
    insert = (
        "INSERT INTO flow_daily (run_id, underlying, date, alerts, max_alert_severity)\n"
        "SELECT run_id, underlying, toDate(ts_event), count(), max(severity) FROM alerts"
    )
    assert localised(insert, sharded) == (
        "INSERT INTO flow_daily_local (run_id, underlying, date, alerts, max_alert_severity)\n"
        "SELECT run_id, underlying, toDate(ts_event), count(), max(severity) FROM alerts_local"
    )  # the column `alerts` stays a column
    view = "CREATE MATERIALIZED VIEW m TO flow_daily AS SELECT 1 FROM `alerts`"
    assert localised(view, sharded) == (
        "CREATE MATERIALIZED VIEW m TO flow_daily_local AS SELECT 1 FROM `alerts_local`"
    )
    plain = "CREATE OR REPLACE VIEW v AS SELECT * FROM option_prints"
    assert localised(plain, sharded) == plain
    renamed = "RENAME TABLE flow_packets_0008 TO flow_packets"
    assert localised(renamed, sharded) == "RENAME TABLE flow_packets_0008 TO flow_packets_local"
    assert localised(insert, frozenset()) == insert


def test_every_table_the_migrations_leave_is_sharded_but_the_sink_positions() -> None:
    tables = sharded_tables(available_migrations())
    assert {"option_prints", "packet_prints", "candles_contract", "runs"} <= tables
    assert "sink_positions" not in tables
    assert not any(name.endswith(("_mv", "_0008")) for name in tables)
    assert "contract_volume_vs_oi" not in tables  # a plain view
