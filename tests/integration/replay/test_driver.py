"""The replay driver: parallel inserts and sharded engines store the same tables as one
chunk through one engine; failures surface."""

from __future__ import annotations

import clickhouse_connect.driver.exceptions
import pyarrow as pa
import pytest

import compute.flow as flow
from analytics.parity import RAW_TABLES, fingerprints
from infra.warehouse import Warehouse
from replay.driver import TableWriter, chunks, replay_events
from tests.integration.live.sessions import session_events

SEED = 23

CANDLES = (
    "SELECT interval_s, symbol, bucket, min(open).price, max(high), min(low), "
    "max(close).price, sum(volume), sum(trades), sum(premium_cents) FROM candles_contract "
    "WHERE run_id = {run:String} GROUP BY interval_s, symbol, bucket "
    "ORDER BY interval_s, symbol, bucket"
)


def test_small_chunks_through_parallel_writers_store_what_one_chunk_stores(
    fresh_warehouse: Warehouse,
) -> None:
    events = session_events(SEED)
    config = flow.EngineConfig()
    replay_events(events, run_id="one", config=config, warehouse=fresh_warehouse,
                  chunk_size=len(events))  # fmt: skip
    summary = replay_events(events, run_id="many", config=config, warehouse=fresh_warehouse,
                            chunk_size=500)  # fmt: skip
    assert summary.events == len(events) > 20 * 500  # dozens of batches in flight
    one = fingerprints(fresh_warehouse, "one")
    assert one["flow_packets"][0] > 100
    assert fingerprints(fresh_warehouse, "many") == one
    assert fingerprints(fresh_warehouse, "many", RAW_TABLES) == fingerprints(
        fresh_warehouse, "one", RAW_TABLES
    )
    candles = fresh_warehouse.rows(CANDLES, {"run": "one"})
    assert len(candles) > 100
    assert fresh_warehouse.rows(CANDLES, {"run": "many"}) == candles


class CountingWarehouse(Warehouse):
    """The real warehouse, noting the rows of each insert."""

    inserts: list[tuple[str, int]]

    def insert_arrow(self, table: str, data: pa.Table) -> None:
        super().insert_arrow(table, data)
        self.inserts.append((table, data.num_rows))


def test_the_writer_inserts_each_table_in_gathers_of_at_least_its_insert_size(
    fresh_warehouse: Warehouse,
) -> None:
    counting = CountingWarehouse(fresh_warehouse.client, fresh_warehouse.database)
    counting.inserts = []
    events = session_events(SEED)
    writer = TableWriter(counting, "gathered", insert_rows=2_000)
    for chunk in chunks(events, 500):
        writer.put(chunk)
    writer.close()
    by_table: dict[str, list[int]] = {}
    for table, rows in counting.inserts:
        by_table.setdefault(table, []).append(rows)
    assert sum(by_table["option_quotes"]) > 4 * 2_000  # several gathers of 500-event chunks
    for table, sizes in by_table.items():
        assert all(rows >= 2_000 for rows in sizes[:-1]), table  # the rest only at the end
        stored = fresh_warehouse.scalar(
            f"SELECT count() FROM `{table}` WHERE run_id = 'gathered'"  # noqa: S608  (our table)
        )
        assert stored == sum(sizes), table


def test_a_failed_insert_stops_the_replay_with_the_servers_error(
    fresh_warehouse: Warehouse,
) -> None:
    fresh_warehouse.command("DROP TABLE flow_packets")
    with pytest.raises(clickhouse_connect.driver.exceptions.DatabaseError, match="flow_packets"):
        replay_events(session_events(SEED), run_id="broken", config=flow.EngineConfig(),
                      warehouse=fresh_warehouse, chunk_size=500)  # fmt: skip


def test_engines_sharded_by_underlying_store_what_one_engine_stores(
    fresh_warehouse: Warehouse,
) -> None:
    events = session_events(SEED)
    config = flow.EngineConfig()
    one = replay_events(events, run_id="one", config=config, warehouse=fresh_warehouse)
    three = replay_events(events, run_id="three", config=config, warehouse=fresh_warehouse,
                          shards=3, chunk_size=700)  # fmt: skip
    assert (three.events, three.prints, three.outputs, three.packets_by_kind) == (
        one.events,
        one.prints,
        one.outputs,
        one.packets_by_kind,
    )
    expected = fingerprints(fresh_warehouse, "one")
    assert expected["flow_packets"][0] > 100
    assert fingerprints(fresh_warehouse, "three") == expected
    assert fingerprints(fresh_warehouse, "three", RAW_TABLES) == fingerprints(
        fresh_warehouse, "one", RAW_TABLES
    )
    assert fresh_warehouse.rows(CANDLES, {"run": "three"}) == fresh_warehouse.rows(
        CANDLES, {"run": "one"}
    )


def test_a_shard_that_fails_stops_the_sharded_replay_with_its_error(
    fresh_warehouse: Warehouse,
) -> None:
    fresh_warehouse.command("DROP TABLE flow_packets")
    with pytest.raises(RuntimeError, match="shard .*flow_packets"):
        replay_events(session_events(SEED), run_id="broken", config=flow.EngineConfig(),
                      warehouse=fresh_warehouse, chunk_size=500, shards=2)  # fmt: skip
