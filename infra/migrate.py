"""Numbered ClickHouse migrations (sql/migrations/NNNN_name.sql), applied once each, in order.

Applied versions are recorded in `schema_migrations`; running the runner again applies only
what is new, and every statement is written to be safe to repeat (IF NOT EXISTS). Each run
also checks that every table and view the migrations leave exists, and recreates what is
missing from its latest CREATE statement (plus the columns later migrations added to it),
following the DROPs and RENAMEs of later migrations.

On a sharded ClickHouse (a Warehouse with several `replica_urls`) the same runs on every
shard with each table renamed `<name>_local` (materialised views read and write the local
tables), and after every statement that creates, alters, renames or drops a table its
`Distributed` table `<name>` over all shards follows it (infra/sharding.py). Plain views
keep reading the Distributed tables. Shards with several replicas get Replicated engines
(`replicated_engine`), migrated on every replica in step.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from importlib import resources

from infra.chserver import CLUSTER
from infra.sharding import LOCAL_SUFFIX, PER_SHARD_TABLES, distributed_ddl, key_column
from infra.warehouse import Warehouse
from schemas.errors import MigrationError

log = logging.getLogger("flowtape.migrate")

_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_CREATES = re.compile(
    r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?(?:TABLE|VIEW)\s+"
    r"(?:IF\s+NOT\s+EXISTS\s+)?`?(\w+)`?",
    re.IGNORECASE,
)
_ADDS_COLUMN = re.compile(r"^ALTER\s+TABLE\s+`?(\w+)`?\s+ADD\s+COLUMN\b", re.IGNORECASE)
_DROPS = re.compile(
    r"^DROP\s+(?:TABLE|VIEW)\s+(?:IF\s+EXISTS\s+)?`?(\w+)`?\s*(?:SYNC\s*)?$", re.IGNORECASE
)
_RENAMES = re.compile(
    r"^RENAME\s+TABLE\s+(?:IF\s+EXISTS\s+)?`?(\w+)`?\s+TO\s+`?(\w+)`?\s*$", re.IGNORECASE
)
_CREATES_TABLE = re.compile(r"^CREATE\s+(?:OR\s+REPLACE\s+)?TABLE\b", re.IGNORECASE)
_CREATES_PLAIN_VIEW = re.compile(r"^CREATE\s+(?:OR\s+REPLACE\s+)?VIEW\b", re.IGNORECASE)
_ALTERS = re.compile(r"^ALTER\s+TABLE\s+`?(\w+)`?", re.IGNORECASE)
_DROPS_TABLE = re.compile(r"^DROP\s+TABLE\b", re.IGNORECASE)
_WRITES_ROWS = re.compile(
    r"^(?:INSERT\b|ALTER\s+TABLE\s+`?\w+`?\s+(?:DELETE|UPDATE)\b)", re.IGNORECASE
)
_ENGINE = re.compile(
    r"\bENGINE\s*=\s*(Replacing|Summing|Aggregating)?MergeTree\b(?:\s*\(([^()]*)\))?",
    re.IGNORECASE,
)
REPLICA_PATH = "/clickhouse/tables/{shard}/{database}/{table}"
_TABLE_AFTER = r"(\b(?:FROM|JOIN|INTO|TABLE|TO|EXISTS)\s+`?)({names})(`?)(?!\w)"


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


@dataclass(frozen=True, slots=True)
class SchemaObject:
    """A table or view as the migrations leave it: the statements that recreate it."""

    name: str
    statements: tuple[str, ...]


def schema_objects(migrations: list[Migration]) -> list[SchemaObject]:
    """Every table and view the migrations leave, in creation order: each from its latest
    CREATE statement, followed by the ADD COLUMNs of later migrations. A DROP forgets an
    object; a RENAME carries it, CREATE statement renamed, to its new name."""
    creates: dict[str, str] = {}
    added: dict[str, list[str]] = {}
    for migration in migrations:
        for statement in migration.statements():
            if created := _CREATES.match(statement):
                creates.pop(created[1], None)  # a later CREATE moves it after what it reads
                creates[created[1]] = statement
                added[created[1]] = []
            elif (altered := _ADDS_COLUMN.match(statement)) and altered[1] in added:
                added[altered[1]].append(statement)
            elif dropped := _DROPS.match(statement):
                creates.pop(dropped[1], None)
                added.pop(dropped[1], None)
            elif (renamed := _RENAMES.match(statement)) and renamed[1] in creates:
                old, new = renamed[1], renamed[2]
                creates[new] = _renamed(creates.pop(old), _CREATES, new)
                added[new] = [_renamed(sql, _ADDS_COLUMN, new) for sql in added.pop(old)]
    return [SchemaObject(name, (sql, *added[name])) for name, sql in creates.items()]


def _renamed(statement: str, pattern: re.Pattern[str], name: str) -> str:
    """`statement` naming `name` where `pattern` found its object's name."""
    match = pattern.match(statement)
    if match is None:
        raise MigrationError(f"expected a statement naming a table, got {statement[:80]!r}")
    return statement[: match.start(1)] + name + statement[match.end(1) :]


def restore_missing(
    warehouse: Warehouse,
    migrations: list[Migration],
    sharded: frozenset[str] = frozenset(),
    replicated: bool = False,
) -> list[str]:
    """Recreate the tables and views of applied `migrations` that are missing; returns their
    names, or MigrationError naming those that cannot be recreated. On a shard, the tables
    of `sharded` are their `_local` tables (`on_shard`)."""
    present = {
        str(row[0])
        for row in warehouse.rows(
            "SELECT name FROM system.tables WHERE database = {db:String}",
            {"db": warehouse.database},
        )
    }
    missing = [
        obj for obj in schema_objects(migrations) if _stored_name(obj.name, sharded) not in present
    ]
    for obj in missing:
        try:
            for statement in obj.statements:
                warehouse.command(on_shard(statement, sharded, replicated))
        except Exception as exc:
            names = ", ".join(o.name for o in missing)
            raise MigrationError(
                f"tables missing from {warehouse.database}: {names}; "
                f"recreating {obj.name} failed: {' '.join(str(exc).split())[:300]}"
            ) from exc
    if missing:
        log.warning("recreated missing tables: %s", ", ".join(o.name for o in missing))
    return [obj.name for obj in missing]


def migrate(warehouse: Warehouse) -> list[Migration]:
    """Apply every migration not yet applied and recreate any table or view of theirs that
    is missing; returns the migrations applied now (on each shard of a sharded one)."""
    if warehouse.sharded:
        return _migrate_shards(warehouse)
    return _migrate_replicas([warehouse])


def _migrate_replicas(
    replicas: list[Warehouse], sharded: frozenset[str] = frozenset(), replicated: bool = False
) -> list[Migration]:
    """Migrate one server, or one shard's replicas in step, statement by statement (a table
    dropped and created again must be so on every replica before the next statement). What
    the first replica has applied counts; a statement that writes rows runs on it alone, as
    replication carries rows to the others."""
    done = applied_versions(replicas[0])
    for replica in replicas[1:]:
        applied_versions(replica)
    applied: list[Migration] = []
    for migration in available_migrations():
        if migration.version in done:
            continue
        for statement in migration.statements():
            targets = replicas[:1] if _WRITES_ROWS.match(statement) else replicas
            for replica in targets:
                try:
                    replica.command(on_shard(statement, sharded, replicated))
                    for table in _tables_changed(statement) & sharded:
                        sync_distributed(replica, table)
                except Exception as exc:
                    raise MigrationError(
                        f"migration {migration.version:04d}_{migration.name} failed: {exc}"
                    ) from exc
        for replica in replicas:
            replica.command(
                "INSERT INTO schema_migrations (version, name) VALUES ({v:UInt32}, {n:String})",
                {"v": migration.version, "n": migration.name},
            )
        applied.append(migration)
    for replica in replicas:
        restore_missing(replica, available_migrations(), sharded, replicated)
        for table in sorted(sharded):
            sync_distributed(replica, table)
    return applied


# ------------------------------------------------------------------ shards


def sharded_tables(migrations: list[Migration]) -> frozenset[str]:
    """The tables the migrations leave that are spread over the shards (all but the
    per-shard ones)."""
    tables = {
        obj.name for obj in schema_objects(migrations) if _CREATES_TABLE.match(obj.statements[0])
    }
    return frozenset(tables - PER_SHARD_TABLES)


def localised(statement: str, sharded: frozenset[str]) -> str:
    """`statement` as run on a shard: each table of `sharded` it names (after FROM, JOIN,
    INTO, TABLE, TO or EXISTS) becomes its `_local` table; plain views are left reading the
    Distributed tables."""
    if not sharded or _CREATES_PLAIN_VIEW.match(statement):
        return statement
    names = "|".join(sorted((re.escape(name) for name in sharded), key=len, reverse=True))
    pattern = re.compile(_TABLE_AFTER.format(names=names), re.IGNORECASE)
    return pattern.sub(lambda m: f"{m[1]}{m[2]}{LOCAL_SUFFIX}{m[3]}", statement)


def replicated_engine(statement: str) -> str:
    """`statement` for a shard whose replicas share their tables through Keeper: a MergeTree
    family engine becomes its Replicated one, at a Keeper path of the shard (the server's
    `{shard}` macro), database and table, as replica `{replica}`; a DROP TABLE waits until
    the table's Keeper entry is gone (SYNC), so a table created again under the same name
    starts afresh."""
    if _CREATES_TABLE.match(statement):
        return _ENGINE.sub(_replicated_engine, statement, count=1)
    if _DROPS.match(statement) and _DROPS_TABLE.match(statement):
        return statement if statement.rstrip().upper().endswith("SYNC") else f"{statement} SYNC"
    return statement


def _replicated_engine(match: re.Match[str]) -> str:
    arguments = [f"'{REPLICA_PATH}'", "'{replica}'"]
    if match[2] and match[2].strip():
        arguments.append(match[2].strip())
    return f"ENGINE = Replicated{match[1] or ''}MergeTree({', '.join(arguments)})"


def on_shard(statement: str, sharded: frozenset[str], replicated: bool) -> str:
    """`statement` as a shard (or a replica of one) runs it."""
    local = localised(statement, sharded)
    return replicated_engine(local) if replicated else local


def _stored_name(name: str, sharded: frozenset[str]) -> str:
    return f"{name}{LOCAL_SUFFIX}" if name in sharded else name


def _tables_changed(statement: str) -> set[str]:
    """The tables a statement creates, alters, drops or renames."""
    changed: set[str] = set()
    for pattern in (_CREATES, _ALTERS, _DROPS):
        if match := pattern.match(statement):
            changed.add(match[1])
    if renamed := _RENAMES.match(statement):
        changed.update((renamed[1], renamed[2]))
    return changed


def _columns(warehouse: Warehouse, table: str) -> list[tuple[str, str]]:
    return [
        (str(name), str(kind))
        for name, kind in warehouse.rows(
            "SELECT name, type FROM system.columns WHERE database = currentDatabase() "
            "AND table = {t:String} ORDER BY position",
            {"t": table},
        )
    ]


def sync_distributed(shard: Warehouse, table: str) -> None:
    """Make the Distributed table `table` match `<table>_local` on this shard: created with
    its columns, recreated when they changed (it holds no rows), dropped with it."""
    local = _columns(shard, f"{table}{LOCAL_SUFFIX}")
    engine = shard.scalar(
        "SELECT engine FROM system.tables WHERE database = currentDatabase() AND name = {t:String}",
        {"t": table},
    )
    if engine is not None and engine != "Distributed":
        raise MigrationError(
            f"{shard.database}.{table} is a {engine} table, not the Distributed table of a "
            "sharded database: a one-server database is not turned into shards in place "
            "(migrate a new database and copy the runs over)"
        )
    if engine is not None and _columns(shard, table) == local:
        return
    if engine is not None:
        shard.command(f"DROP TABLE `{table}` SYNC")
    if local:
        column = key_column(table, [name for name, _ in local])
        shard.command(distributed_ddl(table, shard.database, column))


def _migrate_shards(warehouse: Warehouse) -> list[Migration]:
    """Migrate every shard; the cluster the servers name must have as many shards."""
    counted = int(
        warehouse.scalar(
            "SELECT uniqExact(shard_num) FROM system.clusters WHERE cluster = {c:String}",
            {"c": CLUSTER},
        )
        or 0
    )
    if counted != len(warehouse.replica_urls):
        raise MigrationError(
            f"CLICKHOUSE_URL names {len(warehouse.replica_urls)} shards but the server's "
            f"remote_servers cluster {CLUSTER!r} has {counted}"
        )
    sharded = sharded_tables(available_migrations())
    applied: list[Migration] = []
    for urls in warehouse.replica_urls:
        replicas = warehouse.connect_each(urls)
        try:
            applied = _migrate_replicas(replicas, sharded, warehouse.replicated)
        finally:
            for replica in replicas:
                replica.close()
    return applied
