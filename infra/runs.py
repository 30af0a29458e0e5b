"""Runs: every stored row belongs to one run id; a run is registered, listed and deletable.

Tables are partitioned by (run_id, day), so deleting a run drops its partitions: no
mutation, no rewrite of other runs' data.
"""

from __future__ import annotations

import json
import time
from typing import Any

from infra.sharding import LOCAL_SUFFIX
from infra.warehouse import EVENT_TABLES, Warehouse


def register_run(
    warehouse: Warehouse, run_id: str, *, kind: str, description: str, params: dict[str, Any],
    status: str,
) -> None:  # fmt: skip
    """Insert or update the run's row (ReplacingMergeTree keeps the newest)."""
    now_ms = time.time_ns() // 1_000_000
    created = warehouse.scalar(
        "SELECT toUnixTimestamp64Milli(min(created_at)) FROM runs WHERE run_id = {r:String}",
        {"r": run_id},
    )
    warehouse.client.insert(
        "runs",
        [[run_id, kind, description, json.dumps(params, sort_keys=True), status,
          int(created or now_ms), now_ms]],
        column_names=["run_id", "kind", "description", "params", "status", "created_at",
                      "updated_at"],
    )  # fmt: skip


def list_runs(warehouse: Warehouse) -> list[dict[str, Any]]:
    rows = warehouse.rows(
        "SELECT run_id, kind, status, description, created_at, updated_at "
        "FROM runs FINAL ORDER BY created_at"
    )
    keys = ("run_id", "kind", "status", "description", "created_at", "updated_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def run_partitions(warehouse: Warehouse, run_id: str, suffix: str = "") -> dict[str, list[str]]:
    """Partition ids per event table that hold the run's rows (of `<table><suffix>`: a
    shard's `_local` tables)."""
    rows = warehouse.rows(
        "SELECT DISTINCT table, partition_id, partition FROM system.parts "
        "WHERE database = currentDatabase() AND active AND table IN {tables:Array(String)}",
        {"tables": [f"{table}{suffix}" for table in EVENT_TABLES]},
    )
    found: dict[str, list[str]] = {}
    for table, partition_id, partition in rows:
        if _partition_run(partition) == run_id:
            found.setdefault(table, []).append(partition_id)
    return found


def _partition_run(partition: str) -> str:
    """The run id of a partition value such as `('replay-1','2025-02-20')`."""
    inner = partition.strip("()")
    first = inner.split(",", 1)[0].strip()
    return first.strip("'")


def delete_run(warehouse: Warehouse, run_id: str) -> int:
    """Drop every partition of the run (on every shard of a sharded ClickHouse); returns how
    many were dropped."""
    if not warehouse.sharded:
        return _delete_run(warehouse, run_id, "")
    shards = warehouse.connect_shards()
    try:
        return sum(_delete_run(shard, run_id, LOCAL_SUFFIX) for shard in shards)
    finally:
        for shard in shards:
            shard.close()


def _delete_run(warehouse: Warehouse, run_id: str, suffix: str) -> int:
    dropped = 0
    for table, partition_ids in run_partitions(warehouse, run_id, suffix).items():
        for partition_id in partition_ids:
            warehouse.command(f"ALTER TABLE `{table}` DROP PARTITION ID '{partition_id}'")
            dropped += 1
    warehouse.command(
        f"DELETE FROM runs{suffix} WHERE run_id = {{r:String}}",  # noqa: S608  (constant suffix)
        {"r": run_id},
    )
    return dropped
