"""`flowtape synth --market cme`."""

from __future__ import annotations

from pathlib import Path

import databento as db
from typer.testing import CliRunner

from cli.main import app
from synth.cme_labels import read_labels, read_truth


def test_synth_market_cme_writes_the_glbx_files_and_the_truth(tmp_path: Path) -> None:
    args = ["synth", "--market", "cme", "--out", str(tmp_path), "--seed", "9", "--minutes", "1"]
    result = CliRunner().invoke(app, [*args, "--quiet", "20:5", "--quiet", "40:5"])
    assert result.exit_code == 0, result.output
    written = sorted(p.name for p in tmp_path.iterdir())
    assert [line.rsplit("/", 1)[-1] for line in result.stdout.split()] == written
    assert len(written) == 6
    truth = read_truth(tmp_path / "cme_session.json")
    assert [(w.start - truth.open_ns) // 10**9 for w in truth.quiet_windows] == [20, 40]
    assert len(read_labels(tmp_path / "cme_labels.jsonl")) == 61
    store = db.DBNStore.from_file(next(tmp_path.glob("*.mbp-1.dbn.zst")))
    assert store.metadata.dataset == "GLBX.MDP3"


def test_a_malformed_quiet_window_fails_the_command(tmp_path: Path) -> None:
    args = ["synth", "--market", "cme", "--out", str(tmp_path), "--quiet", "20s"]
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert "START:SECONDS" in result.output
    assert not any(tmp_path.iterdir())
