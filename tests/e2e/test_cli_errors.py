"""Each way of getting a `flowtape` command wrong ends in one line with a code, no traceback."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import Servers

# name: (arguments, the code the error line carries). Run in a folder holding `sample.dbn.zst`
# (a real DBN file), `corrupt.dbn` (not DBN) and `taken` (a file where a folder should go).
WITHOUT_SERVERS: dict[str, tuple[list[str], str]] = {
    "unknown option": (["replay", "--bogus"], "usage"),
    "missing DBN file": (["replay", "missing.dbn"], "usage"),
    "corrupt DBN file": (["replay", "corrupt.dbn"], "dbn_read"),
    "bad --from time": (["replay", "--from", "yesterday", "sample.dbn.zst"], "bad_time"),
    "replay of nothing": (["replay"], "replay"),
    "no such date": (["replay", "--from-run", "live", "--date", "2025-02-30"], "replay"),
    "unknown named query": (["sql", "--name", "no_such_query"], "query"),
    "--param without =": (["sql", "--name", "top_premium_packets", "--param", "limit"], "query"),
    "unknown --format": (["sql", "--format", "xml", "SELECT 1"], "usage"),
    "unknown source": (["ingest", "--source", "bloomberg"], "usage"),
    "bad synth date": (["synth", "--out", "session", "--date", "2025-13-40"], "usage"),
    "synth into a file": (["synth", "--out", "taken", "--minutes", "1"], "output"),
    "ClickHouse unreachable": (["runs"], "server"),
}

WITH_SERVERS: dict[str, tuple[list[str], str]] = {
    "SQL syntax error": (["sql", "SELEC 1"], "sql"),
    "unreadable --param": (["sql", "--name", "top_premium_packets", "--param", "limit=x"], "query"),
    "report into a file": (["report", "no_such_run", "--out", "taken"], "output"),
}

# Nothing listens here: a command that reached for a server would fail with another code.
NO_SERVERS = {"NATS_URL": "nats://127.0.0.1:9", "REDIS_URL": "redis://127.0.0.1:9/0",
              "CLICKHOUSE_URL": "http://127.0.0.1:9"}  # fmt: skip


def run_all(
    cases: Mapping[str, tuple[list[str], str]], folder: Path, servers: Mapping[str, str]
) -> dict[str, subprocess.CompletedProcess[str]]:
    """Every case as its own `flowtape` process, a few at a time."""
    env = {**os.environ, **servers, "FLOWTAPE_DATA_DIR": str(folder / ".flowtape"),
           "CLICKHOUSE_DATABASE": f"cli_errors_{uuid.uuid4().hex[:8]}"}  # fmt: skip

    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            cwd=folder, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = pool.map(run, [args for args, _ in cases.values()])
        return dict(zip(cases, results, strict=True))


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory, shared_data: Path) -> Path:
    folder = tmp_path_factory.mktemp("cli_errors")
    shutil.copy(shared_data / "OPRA.PILLAR" / "test_data.tbbo.dbn.zst", folder / "sample.dbn.zst")
    (folder / "corrupt.dbn").write_bytes(b"DBN? no: " + bytes(range(256)))
    (folder / "taken").write_text("a file, not a folder\n")
    return folder


@pytest.fixture(scope="module")
def without_servers(folder: Path) -> dict[str, subprocess.CompletedProcess[str]]:
    return run_all(WITHOUT_SERVERS, folder, NO_SERVERS)


@pytest.fixture(scope="module")
def with_servers(folder: Path, servers: Servers) -> dict[str, subprocess.CompletedProcess[str]]:
    return run_all(WITH_SERVERS, folder, servers.environment())


def assert_one_error_line(result: subprocess.CompletedProcess[str], code: str) -> None:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr + result.stdout
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].strip(), result.stderr
    assert lines[0].startswith(f"error: [{code}] "), lines[0]


@pytest.mark.parametrize("case", WITHOUT_SERVERS)
def test_a_bad_command_says_what_is_wrong_in_one_line_with_its_code(
    case: str, without_servers: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert_one_error_line(without_servers[case], WITHOUT_SERVERS[case][1])


@pytest.mark.slow
@pytest.mark.parametrize("case", WITH_SERVERS)
def test_what_clickhouse_or_the_disk_refuses_is_one_line_with_its_code(
    case: str, with_servers: dict[str, subprocess.CompletedProcess[str]]
) -> None:
    assert_one_error_line(with_servers[case], WITH_SERVERS[case][1])
