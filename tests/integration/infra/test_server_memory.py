"""Embedded servers run with the memory settings flowtape gives them, or the environment's:
nats-server under Go's soft memory limit, valkey-server with glibc's fixed mmap threshold."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import psutil
import pytest
import redis

from infra.embedded import (
    NATS_MEMORY_LIMIT,
    VALKEY_MMAP_THRESHOLD,
    EmbeddedServer,
    nats_server,
    redis_server,
)

MB = 1 << 20


def started_with(make: Callable[[Path], EmbeddedServer], tmp_path: Path) -> dict[str, str]:
    server = make(tmp_path / "server")
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
    assert started_with(nats_server, tmp_path)["GOMEMLIMIT"] == NATS_MEMORY_LIMIT


def test_a_memory_limit_in_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOMEMLIMIT", "1GiB")
    assert started_with(nats_server, tmp_path)["GOMEMLIMIT"] == "1GiB"


def test_valkey_server_gives_back_the_memory_of_large_values_it_frees(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("MALLOC_MMAP_THRESHOLD_", raising=False)
    server = redis_server(tmp_path / "valkey")
    assert server.env == {"MALLOC_MMAP_THRESHOLD_": VALKEY_MMAP_THRESHOLD}
    server.start()
    try:
        assert server.pid is not None
        process = psutil.Process(server.pid)
        client = redis.Redis.from_url(server.url)
        # a first large value freed raises glibc's default threshold above the next ones
        client.set("large", os.urandom(16 * MB))
        client.delete("large")
        before = process.memory_info().rss
        names = [f"snapshot{k}" for k in range(8)]
        for name in names:
            client.set(name, os.urandom(3 * MB))
        held = process.memory_info().rss
        client.delete(*names)
        after = process.memory_info().rss
        client.close()
    finally:
        server.stop()
    assert held - before > 20 * MB
    assert after - before < 8 * MB  # with glibc's default threshold: 31 MB kept


def test_an_mmap_threshold_in_the_environment_wins(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MALLOC_MMAP_THRESHOLD_", "1048576")
    assert redis_server(tmp_path / "valkey").env == {}
