"""`flowtape daemon` and `flowtape record` refuse bad settings in one line with a code."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.test_cli_errors import NO_SERVERS, assert_one_error_line


def flowtape(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "cli.main", *args],
        cwd=folder, capture_output=True, text=True, timeout=120,
        env={**os.environ, **NO_SERVERS, "FLOWTAPE_DATA_DIR": str(folder / ".flowtape"), **env},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("args", "env", "code"),
    [
        (["daemon"], {"FLOWTAPE_DAEMON_CONFIG": "absent.toml"}, "config"),
        (["daemon"], {"FLOWTAPE_DAEMON_RETENTION": '{"7x": 5}'}, "interval"),
        (["daemon"], {"FLOWTAPE_DAEMON_SOCKET_MODE": "0x1"}, "config"),
        (["record", "--rotate-rows", "0"], {}, "usage"),
        (["record", "--out", "taken"], {}, "output"),
    ],
    ids=["config file missing", "bad interval", "bad socket mode", "no rotation", "out a file"],
)
def test_a_bad_setting_is_one_error_line(
    tmp_path: Path, args: list[str], env: dict[str, str], code: str
) -> None:
    (tmp_path / "taken").write_text("a file, not a folder\n")
    assert_one_error_line(flowtape(tmp_path, *args, **env), code)


def test_a_daemon_refuses_a_socket_another_daemon_listens_on(tmp_path: Path) -> None:
    import socket

    path = tmp_path / "d.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(path))
    listener.listen(1)
    try:
        result = flowtape(tmp_path, "daemon", FLOWTAPE_DAEMON_SOCKET_PATH=str(path),
                          FLOWTAPE_DAEMON_SEED="false")  # fmt: skip
    finally:
        listener.close()
    assert_one_error_line(result, "socket")
