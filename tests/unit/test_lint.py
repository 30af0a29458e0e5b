"""The style contract (STYLE.md): ruff's rules and formatting everywhere, mypy strict on
schemas/ and compute/ (the DTZ rule and tests/unit/compute/test_purity.py keep clocks out)."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_ruff_finds_nothing() -> None:
    result = run("ruff", "check", ".")
    assert result.returncode == 0, result.stdout


def test_code_is_formatted() -> None:
    result = run("ruff", "format", "--check", ".")
    assert result.returncode == 0, result.stdout


def test_mypy_strict_passes_on_schemas_and_compute() -> None:
    result = run("mypy")
    assert result.returncode == 0, result.stdout
