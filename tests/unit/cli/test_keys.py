"""`flowtape keys`: the key is printed once; list never shows it; revoke names the key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path


def flowtape(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FLOWTAPE_DATA_DIR": str(tmp_path / "data")}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", *args],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def test_create_list_revoke(tmp_path: Path) -> None:
    created = flowtape(tmp_path, "create", "--scope", "read", "--scope", "sql", "--name", "n1",
                       "--rate", "10/s")  # fmt: skip
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("ftk_") and "shown once" in created.stderr

    listed = flowtape(tmp_path, "list", "--json")
    [record] = json.loads(listed.stdout)
    assert record["name"] == "n1" and record["scopes"] == ["read", "sql"]
    assert record["rate"] == "10/s" and record["revoked_ns"] is None
    table = flowtape(tmp_path, "list")
    assert record["key_id"] in table.stdout
    for output in (listed, table):
        assert key not in output.stdout + output.stderr

    revoked = flowtape(tmp_path, "revoke", record["key_id"])
    assert revoked.returncode == 0 and record["key_id"] in revoked.stdout
    [record] = json.loads(flowtape(tmp_path, "list", "--json").stdout)
    assert record["revoked_ns"] is not None


def test_bad_input_is_one_line_with_a_code(tmp_path: Path) -> None:
    for args, code in ((("create", "--scope", "write"), "[keys]"),
                       (("revoke", "nosuchkey"), "[unknown_key]")):  # fmt: skip
        result = flowtape(tmp_path, *args)
        assert result.returncode == 2, result.stderr
        assert code in result.stderr and len(result.stderr.strip().splitlines()) == 1
