"""`flowtape sql` reads by default, as `POST /v1/sql` does; writes need --write, said first."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from infra.warehouse import Warehouse
from tests.conftest import Servers


def flowtape_sql(
    servers: Servers, database: str, folder: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **servers.environment(), "FLOWTAPE_DATA_DIR": str(folder),
           "CLICKHOUSE_DATABASE": database}  # fmt: skip
    return subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "cli.main", "sql", *args],
        cwd=folder, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def has_table(warehouse: Warehouse, name: str) -> bool:
    return bool(warehouse.scalar(f"EXISTS TABLE `{name}`"))


def test_a_drop_without_write_is_refused_in_one_line_and_the_table_stays(
    servers: Servers, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    result = flowtape_sql(servers, fresh_warehouse.database, tmp_path, "DROP TABLE alerts")
    assert result.returncode == 2, result.stdout + result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: [sql_rejected] "), result.stderr
    assert "--write" in lines[0]
    assert has_table(fresh_warehouse, "alerts")


def test_system_tables_are_refused_without_write(
    servers: Servers, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    result = flowtape_sql(
        servers, fresh_warehouse.database, tmp_path, "SELECT name FROM system.users"
    )
    assert result.returncode == 2
    assert result.stderr.startswith("error: [sql_rejected] "), result.stderr
    assert "system" in result.stderr


def test_a_select_runs_with_the_read_only_profile(
    servers: Servers, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    result = flowtape_sql(
        servers, fresh_warehouse.database, tmp_path, "--format", "csv",
        "SELECT count() AS n FROM alerts",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["n", "0"]


def test_write_says_what_it_will_do_then_does_it(
    servers: Servers, fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    result = flowtape_sql(
        servers, fresh_warehouse.database, tmp_path, "--write", "DROP TABLE alerts"
    )
    assert result.returncode == 0, result.stderr
    assert f"write: DROP TABLE alerts in database {fresh_warehouse.database}" in result.stderr
    assert not has_table(fresh_warehouse, "alerts")
