"""ops/deploy/systemd/: systemd accepts every unit, each runs a real `flowtape` command as a
non-root user with an environment file, restarts on failure and raises its file limit."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from cli.stack import SERVICES
from ops.subscribers import load_subscribers

ROOT = Path(__file__).resolve().parents[4]
UNITS = ROOT / "ops" / "deploy" / "systemd"
INSTALLED_FLOWTAPE = "/opt/flowtape/.venv/bin/flowtape"
SERVICE_FILES = sorted(UNITS.glob("*.service"))
LONG_RUNNING = [path for path in SERVICE_FILES if path.name != "flowtape-migrate.service"]


def directives(path: Path) -> dict[str, list[str]]:
    """`[Section]Key` -> its values in order (systemd allows a key more than once)."""
    found: dict[str, list[str]] = {}
    section = ""
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        key, _, value = line.partition("=")
        found.setdefault(f"{section}{key}", []).append(value)
    return found


def env_file_values(path: Path) -> dict[str, str]:
    pairs = (line.partition("=") for line in path.read_text().splitlines())
    return {key: value for key, _, value in pairs if key and not key.startswith("#")}


def test_systemd_analyze_verify_accepts_every_unit_without_a_warning(tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    assert analyze, "systemd-analyze is missing: `make install` installs it (package systemd)"
    # systemd checks that ExecStart's program exists: point the units at this checkout's
    for unit in UNITS.iterdir():
        if unit.suffix in (".service", ".target"):
            text = unit.read_text().replace(
                INSTALLED_FLOWTAPE, str(Path(sys.executable).parent / "flowtape")
            )
            (tmp_path / unit.name).write_text(text)
    names = [p.name.replace("@.service", "@synthetic.service") for p in tmp_path.iterdir()]
    verify = subprocess.run(  # noqa: S603  (systemd-analyze from PATH)
        [analyze, "verify", *names], cwd=tmp_path, capture_output=True, text=True, check=False
    )
    assert verify.returncode == 0, verify.stderr
    assert verify.stderr == "", verify.stderr  # unknown keys are only warnings: refuse them too


@pytest.mark.parametrize("unit", LONG_RUNNING, ids=lambda p: p.name)
def test_a_service_runs_unprivileged_restarts_on_failure_and_has_a_file_limit(unit: Path) -> None:
    found = directives(unit)
    assert found["[Service]User"] == ["flowtape"]
    assert "/etc/flowtape/flowtape.env" in found["[Service]EnvironmentFile"]
    assert found["[Service]Restart"] == ["on-failure"]
    assert found["[Service]RestartSec"][0].endswith("s")
    assert float(found["[Service]RestartSec"][0].removesuffix("s")) >= 1
    assert int(found["[Service]LimitNOFILE"][0]) >= 65536
    assert found["[Install]WantedBy"] == ["flowtape.target"]


def exec_argv(unit: Path, instance: str) -> list[str]:
    """The unit's ExecStart as flowtape's arguments, its instance and INGEST_ARGS filled in."""
    (exec_start,) = directives(unit)["[Service]ExecStart"]
    program, *args = shlex.split(exec_start.replace("%i", instance))
    assert program == INSTALLED_FLOWTAPE
    example = UNITS / f"ingest-{instance}.env.example"
    ingest_args = env_file_values(example)["INGEST_ARGS"] if example.exists() else ""
    expanded: list[str] = []
    for arg in args:
        expanded.extend(shlex.split(ingest_args) if arg == "$INGEST_ARGS" else [arg])
    return expanded


@pytest.mark.parametrize(
    ("unit", "instance"),
    [(path, "") for path in SERVICE_FILES if "@" not in path.name]
    + [
        (UNITS / "flowtape-ingest@.service", name)
        for name in ("synthetic", "databento-live", "binance")
    ],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_every_exec_start_is_a_flowtape_command_with_options_it_knows(
    unit: Path, instance: str
) -> None:
    # --help after the options: the parser still rejects an option the command does not have
    result = CliRunner().invoke(app, [*exec_argv(unit, instance), "--help"])
    assert result.exit_code == 0, result.output


def test_every_service_flowtape_up_runs_has_a_unit() -> None:
    commands = {exec_argv(path, "synthetic")[0] for path in SERVICE_FILES}
    assert {argv[0] for argv in SERVICES} <= commands


def test_the_example_environment_holds_no_secret() -> None:
    values = env_file_values(UNITS / "flowtape.env.example")
    assert values["DATABENTO_API_KEY"] == ""
    assert "CHANGE_THIS_PASSWORD" in values["CLICKHOUSE_URL"]


def test_the_example_subscribers_file_loads() -> None:
    example = UNITS / "subscribers.toml.example"
    (desk,) = load_subscribers(example, {"FLOWTAPE_HOOK_DESK_SECRET": "k"})
    assert (desk.name, desk.min_severity, desk.symbols) == ("desk", 3, frozenset({"SPY", "QQQ"}))
