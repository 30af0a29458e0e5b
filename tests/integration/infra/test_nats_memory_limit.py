"""nats-server runs under Go's soft memory limit: the one flowtape sets, or the environment's."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.embedded import NATS_MEMORY_LIMIT, nats_server


def started_with(tmp_path: Path) -> dict[str, str]:
    server = nats_server(tmp_path / "nats")
    server.start()
    try:
        assert server.pid is not None
        raw = Path(f"/proc/{server.pid}/environ").read_bytes()
    finally:
        server.stop()
    return dict(item.split("=", 1) for item in raw.decode().split("\0") if "=" in item)


def test_nats_server_gets_flowtapes_memory_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOMEMLIMIT", raising=False)
    assert started_with(tmp_path)["GOMEMLIMIT"] == NATS_MEMORY_LIMIT


def test_a_memory_limit_in_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOMEMLIMIT", "1GiB")
    assert started_with(tmp_path)["GOMEMLIMIT"] == "1GiB"
