"""User SQL, read-only: a statement check first, then ClickHouse's own `readonly=1`.

The check gives a clear 400 for anything but one reading statement; `readonly=1` is what
actually enforces it (and forbids the query from raising its own limits with SETTINGS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError

READING_STATEMENTS = ("SELECT", "WITH", "SHOW", "DESCRIBE", "DESC", "EXPLAIN", "EXISTS")
_COMMENTS = re.compile(r"--[^\n]*|/\*.*?\*/", re.DOTALL)
_STRINGS = re.compile(r"'(?:[^'\\]|\\.)*'|`(?:[^`\\]|\\.)*`|\"(?:[^\"\\]|\\.)*\"")


class SqlRejected(FlowtapeError):
    code = "sql_rejected"


class SqlFailed(FlowtapeError):
    code = "sql_failed"


@dataclass(frozen=True)
class SqlLimits:
    max_rows: int = 10_000
    max_execution_s: int = 10
    max_result_bytes: int = 100 * 1024**2


def check_read_only(sql: str) -> str:
    """The statement without a trailing ';', or SqlRejected saying why it is refused."""
    text = _COMMENTS.sub(" ", sql).strip()
    bare = _STRINGS.sub("''", text)
    if bare.endswith(";"):
        text, bare = text.rstrip().rstrip(";").rstrip(), bare.rstrip(";").rstrip()
    if not bare:
        raise SqlRejected("expected one SELECT statement, got no SQL")
    if ";" in bare:
        raise SqlRejected("expected one SELECT statement, got several (';' inside the query)")
    keyword = re.match(r"\(*\s*([A-Za-z]+)", bare)
    found = keyword[1].upper() if keyword else bare.split()[0]
    if found not in READING_STATEMENTS:
        raise SqlRejected(
            f"only read-only statements run here ({', '.join(READING_STATEMENTS)}); "
            f"got {found}. Writes go through the sink and `flowtape` commands."
        )
    return text


def run_read_only(
    warehouse: Warehouse, sql: str, limits: SqlLimits, max_rows: int | None = None
) -> dict[str, Any]:
    """Run one reading statement with readonly=1, a row cap and a time limit."""
    statement = check_read_only(sql)
    cap = min(max_rows or limits.max_rows, limits.max_rows)
    settings = {
        "readonly": 1,
        "max_result_rows": cap + 1,
        "max_result_bytes": limits.max_result_bytes,
        "result_overflow_mode": "break",
        "max_execution_time": limits.max_execution_s,
    }
    try:
        result = warehouse.client.query(statement, settings=settings)
    except Exception as exc:
        message = str(exc)
        start = message.find("DB::Exception:")
        message = message[start:] if start >= 0 else message
        message = re.sub(r"\s*\(for url [^)]*\)\s*$", "", message.strip())
        raise SqlFailed(message.splitlines()[0] if message else type(exc).__name__) from exc
    rows = list(result.result_rows)
    return {
        "columns": list(result.column_names),
        "types": [t.name for t in result.column_types],
        "rows": rows[:cap],
        "row_count": min(len(rows), cap),
        "truncated": len(rows) > cap,
    }
