"""`make up` and `make test` say so when they install the dependencies (it takes a while)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("target", ["up", "test"])
def test_a_first_make_says_it_is_installing_the_dependencies(target: str, tmp_path: Path) -> None:
    # a dry run with a fresh virtualenv folder shows what a first `make` would run; run as a
    # person would, not as a sub-make of `make test` (which prints the folders it enters)
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS")}
    dry_run = subprocess.run(
        ["make", "--dry-run", target, f"VENV={tmp_path / 'venv'}"],  # noqa: S607  (make from PATH)
        cwd=ROOT, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    commands = dry_run.stdout.splitlines()
    assert commands[0] == 'echo "installing dependencies (about a minute)"'
