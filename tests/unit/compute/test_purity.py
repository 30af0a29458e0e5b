"""compute/ stays pure: no clock, randomness, environment, network, files or process state.

Which modules compute/ may import is an import-linter contract (pyproject.toml,
tests/unit/test_architecture.py); this scan catches the calls an allowed module can still make."""

from __future__ import annotations

import ast
from pathlib import Path

COMPUTE = Path(__file__).resolve().parents[3] / "compute"

BANNED_ATTRIBUTES = {
    "now", "today", "utcnow", "time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
    "perf_counter_ns", "process_time", "environ", "getenv", "putenv", "urandom", "getpid",
    "random", "randint", "shuffle", "choice", "uuid4", "uuid1", "fromtimestamp",
    "utcfromtimestamp",
}  # fmt: skip
BANNED_BUILTINS = {
    "open", "input", "print", "hash", "id", "exec", "eval", "__import__", "breakpoint",
}  # fmt: skip


def violations(source: str, name: str = "<src>") -> list[str]:
    """Every impure attribute, builtin call or clock import in one module's source."""
    found: list[str] = []
    for node in ast.walk(ast.parse(source, name)):
        if isinstance(node, ast.Attribute) and node.attr in BANNED_ATTRIBUTES:
            found.append(f"{name}:{node.lineno} uses .{node.attr}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id in BANNED_BUILTINS:
                found.append(f"{name}:{node.lineno} calls {node.func.id}()")
        if isinstance(node, ast.ImportFrom) and node.module == "datetime":
            for alias in node.names:
                if alias.name not in {"date", "timedelta"}:
                    found.append(f"{name}:{node.lineno} imports datetime.{alias.name}")
    return found


def test_compute_sources_have_no_clock_randomness_environment_or_io() -> None:
    sources = sorted(COMPUTE.rglob("*.py"))
    assert len(sources) >= 8
    problems = [v for path in sources for v in violations(path.read_text(), path.name)]
    assert problems == []


def test_the_scan_catches_each_kind_of_impurity() -> None:
    snippets = {
        "import os\nx = os.environ['A']": "uses .environ",
        "import datetime as dt\nx = dt.datetime.now()": "uses .now",
        "import datetime as dt\nx = dt.date.today()": "uses .today",
        "from datetime import datetime": "imports datetime.datetime",
        "x = hash('a')": "calls hash()",
        "x = open('f')": "calls open()",
    }
    for source, expected in snippets.items():
        assert any(expected in v for v in violations(source)), source
