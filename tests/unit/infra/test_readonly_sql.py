"""The read-only SQL profile's statement check: writes and system tables are refused before
any server is reached."""

from __future__ import annotations

import pytest

from infra.readonly_sql import SqlRejected, check_read_only


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TABLE alerts",
        "  -- a comment first\n  drop table alerts;",
        "INSERT INTO alerts (alert_id) VALUES ('x')",
        "TRUNCATE alerts",
        "SYSTEM DROP DNS CACHE",
        "SELECT 1; DROP TABLE alerts",
    ],
)
def test_a_write_or_a_second_statement_is_refused(statement: str) -> None:
    with pytest.raises(SqlRejected):
        check_read_only(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM system.users",
        "select name from `system`.`users`",
        'SELECT * FROM "INFORMATION_SCHEMA"."TABLES"',
        "SELECT * FROM information_schema . tables",
        "WITH u AS (SELECT * FROM System.Grants) SELECT * FROM u",
        "DESCRIBE TABLE system.users",
        "SHOW TABLES FROM system",
        "SHOW DATABASES",
        "SHOW PROCESSLIST",
        "SHOW USERS",
        "SHOW GRANTS",
    ],
)
def test_system_tables_are_refused_by_name(statement: str) -> None:
    with pytest.raises(SqlRejected, match="system tables"):
        check_read_only(statement)


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT number FROM system.numbers LIMIT 3",
        "SELECT 'system.users are off limits' AS note",
        "SELECT * FROM alerts WHERE underlying = 'system'",
        "SHOW TABLES",
        "SHOW CREATE TABLE alerts",
        "DESCRIBE alerts",
        "SELEC 1",  # not a write: ClickHouse reports the syntax error
    ],
)
def test_reading_statements_on_flowtape_tables_pass(statement: str) -> None:
    assert check_read_only(statement) == statement
