"""Content fingerprints of a run's tables, to show that two runs derived the same thing.

A fingerprint is (row count, wrapping sum of a 64-bit hash of each row's TSV text, NULLs
included): independent of row order and insert batching, sensitive to any changed, missing
or repeated row. It leaves out
`run_id`, `log_seq` and the identifiers that are hashes over `run_id` (packet_id, hit_id,
alert_id, event_id, hit_ids, frame_id); the fields those identifiers are made from stay in.
"""

from __future__ import annotations

from infra.warehouse import Warehouse

DERIVED_TABLES = (
    "print_inference",
    "flow_packets",
    "packet_prints",
    "classifier_hits",
    "alerts",
    "darkpool_events",
)
RAW_TABLES = (
    "contracts",
    "option_prints",
    "option_quotes",
    "equity_prints",
    "equity_quotes",
    "open_interest",
)
RUN_SCOPED = frozenset({"run_id", "log_seq", "packet_id", "hit_id", "alert_id", "event_id",
                        "hit_ids", "frame_id"})  # fmt: skip

Fingerprint = tuple[int, int]


def table_fingerprint(warehouse: Warehouse, table: str, run_id: str) -> Fingerprint:
    columns = [
        name
        for (name,) in warehouse.rows(
            "SELECT name FROM system.columns WHERE database = currentDatabase() "
            "AND table = {t:String} AND default_kind != 'MATERIALIZED' ORDER BY position",
            {"t": table},
        )
        if name not in RUN_SCOPED
    ]
    hashed = ", ".join(f"`{name}`" for name in columns)
    row = warehouse.rows(
        f"SELECT count(), coalesce(sum(cityHash64(formatRowNoNewline('TSV', {hashed}))), 0) "  # noqa: S608  (our tables)
        f"FROM `{table}` "
        "WHERE run_id = {run:String}",
        {"run": run_id},
    )[0]
    return int(row[0]), int(row[1])


def fingerprints(
    warehouse: Warehouse, run_id: str, tables: tuple[str, ...] = DERIVED_TABLES
) -> dict[str, Fingerprint]:
    return {table: table_fingerprint(warehouse, table, run_id) for table in tables}
