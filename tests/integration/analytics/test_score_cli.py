"""`flowtape score` on a synthetic session replayed into ClickHouse: the report the scorer
gives on the same session's outputs in memory."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from analytics.run_outputs import RunOutputs
from analytics.scoring import Score, score_run
from compute.flow import EngineConfig, finish, initial_state, step
from ingest.databento.parsing import RecordNormaliser
from ingest.synthetic.source import LIVE_FILES, session_events
from schemas.labels import read_labels
from synth import SynthConfig, SyntheticSession, generate_session
from tests.conftest import Servers

pytestmark = pytest.mark.slow

CONFIG = SynthConfig(seed=31, minutes=2, n_underlyings=6, planted_per_kind=4)
SYNTH_OPTIONS = ("--seed", "31", "--minutes", "2", "--underlyings", "6", "--planted", "4")
RUN = "scored"


@dataclass(frozen=True)
class Replayed:
    """A folder holding the session (`session/`), replayed into `database` as run `scored`."""

    servers: Servers
    folder: Path
    database: str

    def flowtape(self, *args: str) -> subprocess.CompletedProcess[str]:
        env = {**os.environ, **self.servers.environment(), "CLICKHOUSE_DATABASE": self.database,
               "FLOWTAPE_DATA_DIR": str(self.folder / ".flowtape")}  # fmt: skip
        return subprocess.run(
            [sys.executable, "-m", "cli.main", *args],
            env=env, cwd=self.folder, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    def succeeds(self, *args: str) -> str:
        result = self.flowtape(*args)
        assert result.returncode == 0, result.stderr
        return result.stdout


@pytest.fixture(scope="module")
def session() -> SyntheticSession:
    return generate_session(CONFIG)


@pytest.fixture(scope="module")
def replayed(
    servers: Servers, tmp_path_factory: pytest.TempPathFactory, session: SyntheticSession
) -> Replayed:
    replayed = Replayed(servers, tmp_path_factory.mktemp("score"), f"score_{uuid.uuid4().hex[:8]}")
    replayed.succeeds("synth", "--out", "session", *SYNTH_OPTIONS)
    # the files a live consumer reads, as `session_events` does: one source of each print
    files = [f"session/{session.files[name].file_name(session.date)}" for name in LIVE_FILES]
    replayed.succeeds("replay", *files, "--run-id", RUN)
    return replayed


def in_memory_score(session: SyntheticSession) -> Score:
    state = initial_state(EngineConfig(), "in-memory")
    state, outputs = step(state, list(session_events(session, RecordNormaliser("synthetic"))))
    state, tail = finish(state)
    return score_run(session.labels, RunOutputs.from_events(outputs + tail))


def test_the_json_report_is_the_scorers_report_on_the_sessions_outputs_in_memory(
    replayed: Replayed, session: SyntheticSession
) -> None:
    assert read_labels(replayed.folder / "session" / "labels.jsonl") == session.labels
    report = replayed.succeeds("score", "session/labels.jsonl", RUN, "--format", "json")
    expected = in_memory_score(session)
    assert msgspec.json.decode(report, type=Score) == expected
    assert {"sweep", "split", "block", "multi_leg"} <= set(expected.kinds)
    assert expected.structures and expected.rules and expected.darkpool
    assert expected.sides.prints > 100


def test_the_table_report_shows_each_kind_structure_rule_pattern_and_side_split(
    replayed: Replayed,
) -> None:
    report = replayed.succeeds("score", "session/labels.jsonl", RUN)
    rows = (
        "packet kind", "sweep", "multi-leg structure", "butterfly", "classifier rule",
        "golden_sweep", "dark-pool pattern", "stealth_accumulation", "NBBO status print",
        "bucket A", "side rule quote",
    )  # fmt: skip
    assert [row for row in rows if row not in report] == [], report


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["session/missing.jsonl", RUN], "labels"),
        (["session/labels.jsonl", "no_such_run"], "unknown_run"),
        (["session/labels.jsonl", RUN, "--format", "xml"], "usage"),
    ],
)
def test_a_missing_labels_file_or_an_unknown_run_ends_in_one_line_with_its_code(
    replayed: Replayed, args: list[str], code: str
) -> None:
    result = replayed.flowtape("score", *args)
    assert result.returncode == 2
    assert result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.stderr.startswith(f"error: [{code}] ")
