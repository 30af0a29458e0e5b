"""The daemon's settings: a TOML file, environment variables over it, errors as one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from live.daemon.config import load_daemon_settings
from schemas.errors import ConfigError


def test_the_toml_file_sets_fields_and_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    file = tmp_path / "daemon.toml"
    file.write_text('socket_path = "/run/ft.sock"\nsocket_mode = "0660"\ntrades_kept = 50\n'
                    '[retention]\n1m = 60\n4h = 1200\n')  # fmt: skip
    monkeypatch.setenv("FLOWTAPE_DAEMON_CONFIG", str(file))
    monkeypatch.setenv("FLOWTAPE_DAEMON_TRADES_KEPT", "70")
    settings = load_daemon_settings()
    assert settings.socket_path == Path("/run/ft.sock") and settings.socket_mode == 0o660
    assert settings.trades_kept == 70
    assert settings.buffers().retention == {"1m": 60, "4h": 1200}


def test_the_socket_defaults_to_the_data_folder_with_owner_only_access(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FLOWTAPE_DAEMON_CONFIG", raising=False)
    settings = load_daemon_settings()
    assert settings.socket_in(Path("/data")) == Path("/data/daemon.sock")
    assert settings.socket_mode == 0o600


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[retention]\n2x = 5\n", "interval"),
        ("[retention]\n1m = 0\n", "retention of 1m must be at least 1"),
        ("trades_kept = 0\n", "trades_kept"),
        ("colour = 'red'\n", "colour"),
        ("trades_kept = \n", "daemon settings"),
    ],
)
def test_a_bad_setting_is_one_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, text: str, says: str
) -> None:
    file = tmp_path / "daemon.toml"
    file.write_text(text)
    monkeypatch.setenv("FLOWTAPE_DAEMON_CONFIG", str(file))
    with pytest.raises(ConfigError, match=says):
        load_daemon_settings()


def test_a_config_variable_naming_no_file_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FLOWTAPE_DAEMON_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match="absent.toml"):
        load_daemon_settings()
