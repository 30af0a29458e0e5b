"""`flowtape replay` on bad, cut or equities-only input, and `flowtape report` as a person
reads it, run as a person runs them."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from infra.warehouse import Warehouse
from synth.config import SynthConfig
from synth.session import generate_session, write_session
from tests.conftest import Servers

# Nothing listens here: bad input must be refused before any server is reached for.
NO_SERVERS = {"NATS_URL": "nats://127.0.0.1:9", "REDIS_URL": "redis://127.0.0.1:9/0",
              "CLICKHOUSE_URL": "http://127.0.0.1:9"}  # fmt: skip


def flowtape(
    folder: Path, servers: dict[str, str], *args: str, database: str = "unused"
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **servers, "CLICKHOUSE_DATABASE": database, "COLUMNS": "120",
           "FLOWTAPE_DATA_DIR": str(folder / ".flowtape")}  # fmt: skip
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        env=env, cwd=folder, capture_output=True, text=True, timeout=300,
    )  # fmt: skip


def one_error_line(result: subprocess.CompletedProcess[str], code: str) -> str:
    assert result.returncode != 0, result.stdout
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"error: [{code}] "), lines[0]
    return lines[0]


@pytest.mark.parametrize(
    ("name", "make", "code", "reason"),
    [
        ("missing.dbn.zst", None, "usage", "does not exist"),
        ("folder.dbn.zst", lambda p: p.mkdir(), "usage", "is a directory"),
        ("empty.dbn.zst", lambda p: p.write_bytes(b""), "dbn_read", "no DBN metadata"),
        ("random.dbn", lambda p: p.write_bytes(os.urandom(4096)), "dbn_read", "DBN"),
    ],
)
def test_input_that_is_no_dbn_session_fails_naming_the_file_before_any_server(
    tmp_path: Path, name: str, make: object, code: str, reason: str
) -> None:
    if callable(make):
        make(tmp_path / name)
    line = one_error_line(flowtape(tmp_path, NO_SERVERS, "replay", name), code)
    assert name in line and reason in line
    assert len(line) > 0 and "\n" not in line


@pytest.fixture(scope="module")
def session(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("replay_input")
    write_session(generate_session(SynthConfig(minutes=2, n_underlyings=3)), folder / "s")
    return folder


@pytest.mark.slow
def test_a_stream_cut_mid_session_is_stored_marked_incomplete_and_fails_the_command(
    servers: Servers, session: Path
) -> None:
    files = sorted((session / "s").glob("*.dbn.zst"))
    cut = session / "cut"
    cut.mkdir()
    for path in files:
        data = path.read_bytes()
        (cut / path.name).write_bytes(data[: len(data) // 2] if "tcbbo" in path.name else data)
    database = f"e2e_{uuid.uuid4().hex[:8]}"
    result = flowtape(session, servers.environment(), "replay", *map(str, sorted(cut.iterdir())),
                      "--run-id", "cut", database=database)  # fmt: skip
    line = one_error_line(result, "truncated_dbn")
    assert "run cut is incomplete" in line and "tcbbo" in line and "truncated after" in line
    assert "option prints" in result.stdout  # what was read is summed up before
    with Warehouse.connect(servers.clickhouse_url, database, create=False) as wh:
        assert wh.scalar("SELECT status FROM runs FINAL WHERE run_id = 'cut'") == "incomplete"
        assert wh.scalar("SELECT count() FROM option_prints WHERE run_id = 'cut'") > 0


@pytest.mark.slow
def test_an_equities_replay_names_its_prints_and_quotes(
    servers: Servers, shared_data: Path, tmp_path: Path
) -> None:
    files = sorted(str(p) for p in (shared_data / "XNAS.ITCH").glob("*.dbn.zst"))
    database = f"e2e_{uuid.uuid4().hex[:8]}"
    result = flowtape(tmp_path, servers.environment(), "replay", *files, "--run-id", "xnas",
                      database=database)  # fmt: skip
    assert result.returncode == 0, result.stderr
    counts = {
        cells[1].strip(): cells[2].strip()
        for cells in (line.split("│") for line in result.stdout.splitlines())
        if len(cells) == 4
    }
    assert int(counts["equity prints"].replace(",", "")) > 0, result.stdout
    assert "equity quotes" in counts


@pytest.mark.slow
def test_a_report_on_an_unknown_run_fails_and_writes_nothing(
    servers: Servers, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    result = flowtape(tmp_path, servers.environment(), "report", "nosuchrun", "--out", str(out),
                      database=f"e2e_{uuid.uuid4().hex[:8]}")  # fmt: skip
    assert "nosuchrun" in one_error_line(result, "unknown_run")
    assert not out.exists()


@pytest.mark.slow
def test_a_report_is_titled_tables_in_dollars_and_percent_whole_at_120_columns(
    servers: Servers, session: Path
) -> None:
    database = f"e2e_{uuid.uuid4().hex[:8]}"
    files = map(str, sorted((session / "s").glob("*.dbn.zst")))
    replayed = flowtape(session, servers.environment(), "replay", *files, "--run-id", "full",
                        database=database)  # fmt: skip
    assert replayed.returncode == 0, replayed.stderr
    result = flowtape(session, servers.environment(), "report", "full", "--out",
                      str(session / "report"), database=database)  # fmt: skip
    assert result.returncode == 0, result.stderr
    for title in ("Signals by kind", "Mean move of the underlying", "Hit rate", "Calibration"):
        assert title in result.stdout
    assert "$" in result.stdout and " %" in result.stdout
    assert "…" not in result.stdout and "shape:" not in result.stdout  # no elided DataFrame
    assert max(map(len, result.stdout.splitlines())) <= 120
