"""Retention: a TTL per table from the `RETENTION_DAYS_<TABLE>` settings (0 = keep forever)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from infra.settings import Settings
from infra.sharding import LOCAL_SUFFIX, PER_SHARD_TABLES
from infra.warehouse import Warehouse
from live.sink.errors import SinkError


def _variable(table: str) -> str:
    return f"RETENTION_DAYS_{table.upper()}"


def retention_from_settings(settings: Settings) -> dict[str, int]:
    """Days to keep per table (0 = keep forever), from `RETENTION_DAYS_<TABLE>=N`."""
    found: dict[str, int] = {}
    for table, value in settings.retention_days.items():
        try:
            days = int(value)
        except ValueError as exc:
            raise SinkError(
                f"{_variable(table)} must be a whole number of days, got {value!r}"
            ) from exc
        if days < 0:
            raise SinkError(f"{_variable(table)} must be >= 0 days, got {days}")
        found[table] = days
    return found


def _time_column(warehouse: Warehouse, table: str, stored: str) -> str | None:
    rows = warehouse.rows(
        "SELECT partition_key, sorting_key FROM system.tables "
        "WHERE database = currentDatabase() AND name = {t:String}",
        {"t": stored},
    )
    if not rows:
        raise SinkError(f"{_variable(table)} names no table in {warehouse.database}")
    for key in rows[0]:
        for part in re.findall(r"toDate\((\w+)\)|\b(ts_\w+|date|bucket|minute)\b", key):
            column = part[0] or part[1]
            if column:
                return column
    return None


def apply_retention(warehouse: Warehouse, days_by_table: Mapping[str, int]) -> dict[str, str]:
    """Set (days > 0) or remove (0) a TTL on each named table (on a sharded ClickHouse, on
    each shard's `_local` table); returns what was done."""
    if not warehouse.sharded:
        return _apply(warehouse, days_by_table, "")
    shards = warehouse.connect_shards()
    try:
        done: dict[str, str] = {}
        for shard in shards:
            done = _apply(shard, days_by_table, LOCAL_SUFFIX)
        return done
    finally:
        for shard in shards:
            shard.close()


def _apply(warehouse: Warehouse, days_by_table: Mapping[str, int], suffix: str) -> dict[str, str]:
    done: dict[str, str] = {}
    for table, days in sorted(days_by_table.items()):
        stored = table if table in PER_SHARD_TABLES else f"{table}{suffix}"
        column = _time_column(warehouse, table, stored)
        engine = str(
            warehouse.scalar(
                "SELECT engine_full FROM system.tables "
                "WHERE database = currentDatabase() AND name = {t:String}",
                {"t": stored},
            )
        )
        has_ttl = " TTL " in f" {engine} "
        if days == 0:
            if has_ttl:
                warehouse.command(f"ALTER TABLE `{stored}` REMOVE TTL")
            done[table] = "kept forever"
            continue
        if column is None:
            raise SinkError(f"expected a time column in the keys of {table} to expire rows by")
        warehouse.command(f"ALTER TABLE `{stored}` MODIFY SETTING ttl_only_drop_parts = 1")
        warehouse.command(
            f"ALTER TABLE `{stored}` MODIFY TTL toDateTime({column}) + INTERVAL {int(days)} DAY"
        )
        done[table] = f"rows older than {days} days by {column}"
    return done
