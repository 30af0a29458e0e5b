"""User SQL, read-only: the profile `POST /v1/sql` and `flowtape sql` share.

A statement check first gives a clear refusal for writes, for several statements and for
ClickHouse's system tables; the analyzer's query tree (`EXPLAIN QUERY TREE`) then names every
table and table function a query reads, through aliases, CTEs and subqueries; ClickHouse's own
`readonly=1` is what finally enforces it (and forbids the query from raising its own limits
with SETTINGS).

Raw CME data stays inside the platform under its data licence: a caller that may not take it
out (an API key without the admin scope) is refused any query whose tree reads a raw CME
table, or the book tables, which hold GLBX rows beside other venues' and are refused whole.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.sharding import LOCAL_SUFFIX
from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError

READING_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")
WRITING_STATEMENTS = frozenset(
    {
        "INSERT", "DELETE", "UPDATE", "ALTER", "DROP", "CREATE", "TRUNCATE", "RENAME",
        "EXCHANGE", "OPTIMIZE", "ATTACH", "DETACH", "UNDROP", "SYSTEM", "KILL", "GRANT",
        "REVOKE", "SET", "USE", "BACKUP", "RESTORE", "MOVE", "REPLACE",
    }
)  # fmt: skip
# Statements that describe an object rather than read rows: they are checked by name only.
DESCRIBING_STATEMENTS = frozenset({"SHOW", "DESCRIBE", "DESC", "EXISTS", "EXPLAIN"})
# SHOW forms about flowtape's own tables; the others (DATABASES, PROCESSLIST, USERS, GRANTS,
# SETTINGS, ...) are views of the server's system tables.
ALLOWED_SHOW = re.compile(r"SHOW\s+(TABLES|CREATE|COLUMNS|FULL\s+COLUMNS)\b", re.IGNORECASE)
SYSTEM_DATABASES = frozenset({"system", "information_schema"})
# System tables that only generate rows and hold nothing about the server.
ROW_GENERATORS = frozenset({"numbers", "numbers_mt", "one", "zeros", "zeros_mt"})
TABLE_FUNCTIONS = frozenset(
    {"numbers", "numbers_mt", "zeros", "zeros_mt", "generate_series", "generateSeries",
     "generateRandom", "values", "null"}
)  # fmt: skip

# Tables holding raw CME (GLBX.MDP3) records; derived frames such as alpha_frames may leave.
# On a sharded ClickHouse each is also a shard's `_local` table (infra/sharding.py).
_RAW_LICENSED = ("cme_instruments", "cme_trades", "cme_quotes", "cme_statistics", "mbo_events",
                 "mbp10_events")  # fmt: skip
RAW_LICENSED_TABLES = frozenset(
    (*_RAW_LICENSED, *(f"{table}{LOCAL_SUFFIX}" for table in _RAW_LICENSED))
)

_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"")
_LITERALS = re.compile(r"'(?:[^'\\]|\\.)*'")
_QUALIFIED = re.compile(r"(?<![\w$])[`\"]?(system|information_schema)[`\"]?\s*\.\s*[`\"]?(\w*)",
                        re.IGNORECASE)  # fmt: skip
_FROM_DATABASE = re.compile(r"\b(?:FROM|IN)\s+[`\"]?(system|information_schema)[`\"]?(?!\s*\.)",
                            re.IGNORECASE)  # fmt: skip
_TREE_TABLE = re.compile(r"\btable_name: ([^,\s]+)")
_TREE_FUNCTION = re.compile(r"\btable_function_name: (\w+)")


class SqlRejected(FlowtapeError):
    code = "sql_rejected"


class RawDataRefused(SqlRejected):
    code = "raw_data_licensed"


class SqlFailed(FlowtapeError):
    code = "sql_failed"


@dataclass(frozen=True)
class SqlLimits:
    max_rows: int = 10_000
    max_execution_s: int = 10
    max_result_bytes: int = 100 * 1024**2


def one_statement(sql: str) -> str:
    """The single statement in `sql` without comments or a trailing ';', or SqlRejected."""
    text = _COMMENTS.sub(" ", sql).strip()
    bare = _STRINGS.sub("''", text)
    if bare.endswith(";"):
        text, bare = text.rstrip().rstrip(";").rstrip(), bare.rstrip(";").rstrip()
    if not bare:
        raise SqlRejected("expected one SELECT statement, got no SQL")
    if ";" in bare:
        raise SqlRejected("expected one SELECT statement, got several (';' inside the query)")
    return text


def statement_keyword(statement: str) -> str:
    """The statement's first keyword, upper case (`SELECT`, `DROP`, ...)."""
    keyword = re.match(r"\(*\s*([A-Za-z]+)", statement)
    return keyword[1].upper() if keyword else statement.split()[0]


def _refuse_system_table(database: str, table: str) -> None:
    if database.lower() in SYSTEM_DATABASES and not (
        database.lower() == "system" and table.lower() in ROW_GENERATORS
    ):
        raise SqlRejected(
            f"ClickHouse's system tables are not readable here; the query reads "
            f"{database}.{table or '*'}"
        )


def check_read_only(sql: str) -> str:
    """The statement without a trailing ';', or SqlRejected saying why it is refused: a
    write, several statements, or a name in ClickHouse's system databases."""
    statement = one_statement(sql)
    found = statement_keyword(statement)
    if found in WRITING_STATEMENTS:
        raise SqlRejected(
            f"only read-only statements run here ({', '.join(READING_STATEMENTS)}); "
            f"got {found}. Writes go through the sink and `flowtape` commands."
        )
    if found == "SHOW" and not ALLOWED_SHOW.match(statement):
        raise SqlRejected(
            f"{' '.join(statement.split()[:2])} reads ClickHouse's system tables, which are "
            "not readable here; SHOW TABLES, SHOW CREATE and SHOW COLUMNS are"
        )
    identifiers = _LITERALS.sub("''", statement)
    for database, table in _QUALIFIED.findall(identifiers):
        _refuse_system_table(database, table)
    for database in _FROM_DATABASE.findall(identifiers):
        _refuse_system_table(database, "")
    return statement


def _refuse_system_sources(
    warehouse: Warehouse, statement: str, settings: dict[str, Any], raw_cme: bool
) -> None:
    """SqlRejected when the analyzer resolves any table the query reads to a system table,
    or any table function but those that only generate rows; RawDataRefused when it reads
    a raw CME table and `raw_cme` is False."""
    tree = "\n".join(
        row[0] for row in _query(warehouse, f"EXPLAIN QUERY TREE {statement}", settings).result_rows
    )
    for name in _TREE_TABLE.findall(tree):
        database, _, table = name.partition(".")
        _refuse_system_table(database.strip("`"), table.strip("`"))
        if not raw_cme and table.strip("`") in RAW_LICENSED_TABLES:
            raise RawDataRefused(
                f"{table.strip('`')} holds raw CME data, which only an admin key may read; "
                "derived tables such as alpha_frames are readable"
            )
    for function in _TREE_FUNCTION.findall(tree):
        if function not in TABLE_FUNCTIONS:
            raise SqlRejected(
                f"table function {function}() is not allowed here; "
                f"only {', '.join(sorted(TABLE_FUNCTIONS))} are"
            )


def _query(warehouse: Warehouse, statement: str, settings: dict[str, Any]) -> Any:
    try:
        return warehouse.client.query(statement, settings=settings)
    except Exception as exc:
        raise SqlFailed(server_message(exc)) from exc


def server_message(exc: BaseException) -> str:
    """ClickHouse's own message of an exception, on one line, without the URL."""
    message = str(exc)
    start = message.find("DB::Exception:")
    message = message[start:] if start >= 0 else message
    message = re.sub(r"\s*\(for url [^)]*\)\s*$", "", message.strip())
    return message.splitlines()[0] if message else type(exc).__name__


def run_read_only(
    warehouse: Warehouse,
    sql: str,
    limits: SqlLimits,
    max_rows: int | None = None,
    *,
    raw_cme: bool = True,
) -> dict[str, Any]:
    """Run one reading statement with readonly=1, a row cap and a time limit; with
    `raw_cme=False` a query reading raw CME tables is refused."""
    statement = check_read_only(sql)
    cap = min(max_rows or limits.max_rows, limits.max_rows)
    settings = {
        "readonly": 1,
        "max_result_rows": cap + 1,
        "max_result_bytes": limits.max_result_bytes,
        "result_overflow_mode": "break",
        "max_execution_time": limits.max_execution_s,
    }
    if statement_keyword(statement) not in DESCRIBING_STATEMENTS:
        _refuse_system_sources(warehouse, statement, settings, raw_cme)
    result = _query(warehouse, statement, settings)
    rows = list(result.result_rows)
    return {
        "columns": list(result.column_names),
        "types": [t.name for t in result.column_types],
        "rows": rows[:cap],
        "row_count": min(len(rows), cap),
        "truncated": len(rows) > cap,
    }
