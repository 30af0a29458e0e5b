"""The layout table of ARCHITECTURE.md is executable: import-linter's contracts in
pyproject.toml hold on the code, and they break on an import that runs against them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = ("schemas", "compute", "infra", "synth", "ingest", "live", "replay", "analytics", "ops",
            "payments", "api", "cli", "flowtape")  # fmt: skip


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(cwd)}
    return subprocess.run(
        [LINT_IMPORTS, "--no-cache"], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=300,
    )  # fmt: skip


def test_the_import_contracts_hold() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert " BROKEN" not in result.stdout


def copy_of_the_project(to: Path) -> Path:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, to / package, ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", to / "pyproject.toml")
    return to


# (module planted, its source, what lint-imports must report)
PLANTED = {
    "an upward import breaks compute's contract": (
        "compute/planted.py", "import infra.settings\n",
        ["compute imports nothing of the project but schemas BROKEN",
         "compute.planted -> infra.settings"],
    ),
    "a clock in compute breaks its purity": (
        "compute/planted.py", "import time\n", ["compute is pure", "compute.planted -> time"],
    ),
    "the API may not reach into the live services": (
        "api/planted.py", "import live.sink\n", ["api.planted -> live.sink"],
    ),
}  # fmt: skip


@pytest.mark.parametrize("case", PLANTED)
def test_a_planted_import_against_the_table_breaks_a_contract(tmp_path: Path, case: str) -> None:
    module, source, reported = PLANTED[case]
    project = copy_of_the_project(tmp_path)
    (project / module).write_text(source)
    result = lint_imports(project)
    assert result.returncode != 0
    for line in reported:
        assert line in result.stdout
