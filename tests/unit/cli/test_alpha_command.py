"""`flowtape alpha`'s settings: the options and the environment make the engine's config; a
bad value is one line with a code before any server starts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli.alpha import alpha_config, funding_symbols
from infra.settings import Settings


def test_options_and_the_environment_make_the_config(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SIDECAR_EMIT_MS", "500")
    monkeypatch.setenv("STRIKES_WINDOW", "7")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    config = alpha_config(settings, ["CL", "NG"], 0.05, funding_symbols(["CL=BTCUSDT"]))
    assert (config.emit_ms, config.strikes_window, config.rate) == (500, 7, 0.05)
    assert config.roots == ("CL", "NG") and config.funding_symbols == {"CL": "BTCUSDT"}
    assert alpha_config(Settings(_env_file=None), None).roots == ("CL",)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("arguments", "environment", "expected"),
    [
        (["--funding", "CL"], {}, "[usage] Invalid value: --funding expects ROOT=SYMBOL"),
        ([], {"STRIKES_WINDOW": "0"}, "[alpha_config] strikes_window must be > 0, got 0"),
    ],
)
def test_a_bad_setting_is_one_line_with_its_code(
    tmp_path: Path, arguments: list[str], environment: dict[str, str], expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "REDIS_URL")}
    result = subprocess.run(
        [sys.executable, "-m", "cli.main", "alpha", *arguments],
        cwd=tmp_path, env={**env, **environment, "FLOWTAPE_DATA_DIR": str(tmp_path)},
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and expected in lines[0], lines
