"""The layout table of ARCHITECTURE.md is executable: import-linter's contracts in
pyproject.toml hold on the code, and they break on an import that runs against them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = str(Path(sys.executable).parent / "lint-imports")
PACKAGES = ("schemas", "compute", "infra", "synth", "ingest", "live", "replay", "analytics",
            "api", "cli")  # fmt: skip


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


def test_an_upward_import_breaks_the_layers(tmp_path: Path) -> None:
    project = copy_of_the_project(tmp_path)
    (project / "compute" / "planted.py").write_text("import infra.settings\n")
    result = lint_imports(project)
    assert result.returncode != 0
    assert "compute imports nothing of the project but schemas BROKEN" in result.stdout
    assert "compute.planted -> infra.settings" in result.stdout


def test_a_clock_in_compute_breaks_its_purity(tmp_path: Path) -> None:
    project = copy_of_the_project(tmp_path)
    (project / "compute" / "planted.py").write_text("import time\n")
    result = lint_imports(project)
    assert result.returncode != 0
    assert "compute is pure" in result.stdout and "compute.planted -> time" in result.stdout


def test_the_api_may_not_reach_into_the_live_services(tmp_path: Path) -> None:
    project = copy_of_the_project(tmp_path)
    (project / "api" / "planted.py").write_text("import live.sink\n")
    result = lint_imports(project)
    assert result.returncode != 0
    assert "api.planted -> live.sink" in result.stdout
