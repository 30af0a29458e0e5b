"""Numbered ClickHouse migrations (sql/migrations/NNNN_name.sql), applied once each, in order.

Applied versions are recorded in `schema_migrations`; running the runner again applies only
what is new, and every statement is written to be safe to repeat (IF NOT EXISTS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from infra.warehouse import Warehouse
from schemas.errors import MigrationError

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    name: str
    sql: str

    def statements(self) -> list[str]:
        """The file's statements: split on `;` at the end of a line, comments dropped."""
        lines = [ln for ln in self.sql.splitlines() if not ln.lstrip().startswith("--")]
        chunks = re.split(r";\s*$", "\n".join(lines), flags=re.MULTILINE)
        return [chunk.strip() for chunk in chunks if chunk.strip()]


def available_migrations() -> list[Migration]:
    folder = resources.files("sql") / "migrations"
    found: list[Migration] = []
    for entry in folder.iterdir():
        match = _NAME.match(entry.name)
        if match:
            found.append(Migration(int(match[1]), match[2], entry.read_text()))
        elif entry.name.endswith(".sql"):
            raise MigrationError(f"expected migration names like 0001_name.sql, got {entry.name}")
    found.sort(key=lambda m: m.version)
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise MigrationError(f"two migrations share a version number: {versions}")
    return found


def applied_versions(warehouse: Warehouse) -> set[int]:
    warehouse.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations "
        "(version UInt32, name String, applied_at DateTime64(3, 'UTC') DEFAULT now64(3)) "
        "ENGINE = ReplacingMergeTree ORDER BY version"
    )
    return {int(row[0]) for row in warehouse.rows("SELECT version FROM schema_migrations")}


def migrate(warehouse: Warehouse) -> list[Migration]:
    """Apply every migration not yet applied; returns those applied now."""
    done = applied_versions(warehouse)
    applied: list[Migration] = []
    for migration in available_migrations():
        if migration.version in done:
            continue
        for statement in migration.statements():
            try:
                warehouse.command(statement)
            except Exception as exc:
                raise MigrationError(
                    f"migration {migration.version:04d}_{migration.name} failed: {exc}"
                ) from exc
        warehouse.command(
            "INSERT INTO schema_migrations (version, name) VALUES ({v:UInt32}, {n:String})",
            {"v": migration.version, "n": migration.name},
        )
        applied.append(migration)
    return applied
