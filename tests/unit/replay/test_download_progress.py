"""A Databento download reports the bytes it has on disk as they arrive."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ingest.databento.config import DatabentoHistoricalConfig
from replay.sources import download_events

SAMPLE = {"tbbo": "test_data.tbbo.dbn.zst", "definition": "test_data.definition.dbn.zst"}


def _slow_copy(opra: Path, fetched: list[str]) -> Callable[[DatabentoHistoricalConfig, Path], None]:
    def fetch(config: DatabentoHistoricalConfig, path: Path) -> None:
        fetched.append(config.schema)
        data = (opra / SAMPLE[config.schema]).read_bytes()
        with path.open("wb") as out:
            for start in range(0, len(data), len(data) // 4 + 1):
                out.write(data[start : start + len(data) // 4 + 1])
                out.flush()
                time.sleep(0.1)  # the poller sees the file grow

    return fetch


def _download(opra: Path, cache: Path, fetched: list[str]) -> list[tuple[str, int]]:
    reports: list[tuple[str, int]] = []
    download_events(
        "OPRA.PILLAR", ["definition", "tbbo"], ["SPY"], "2024-01-01", "2024-01-02", cache,
        on_download=lambda schema, size: reports.append((schema, size)),
        fetch=_slow_copy(opra, fetched),
    )  # fmt: skip
    return reports


def test_the_bytes_reported_grow_to_the_size_of_every_file(
    shared_data: Path, tmp_path: Path
) -> None:
    opra = shared_data / "OPRA.PILLAR"
    fetched: list[str] = []
    reports = _download(opra, tmp_path, fetched)
    sizes = [size for _, size in reports]
    assert sizes == sorted(sizes)
    assert sizes[-1] == sum((opra / name).stat().st_size for name in SAMPLE.values())
    assert [schema for schema, _ in reports][0] == "definition"
    assert [schema for schema, _ in reports][-1] == "tbbo"
    assert fetched == ["definition", "tbbo"]


def test_a_cached_download_reports_its_size_without_fetching(
    shared_data: Path, tmp_path: Path
) -> None:
    opra = shared_data / "OPRA.PILLAR"
    first = _download(opra, tmp_path, [])
    fetched: list[str] = []
    again = _download(opra, tmp_path, fetched)
    assert fetched == []
    assert again[-1][1] == first[-1][1]


def test_an_interrupted_download_is_fetched_again_not_taken_for_a_cached_file(
    shared_data: Path, tmp_path: Path
) -> None:
    opra = shared_data / "OPRA.PILLAR"

    def broken(config: DatabentoHistoricalConfig, path: Path) -> None:
        path.write_bytes((opra / SAMPLE[config.schema]).read_bytes()[:100])
        raise ConnectionError("connection reset")

    with pytest.raises(ConnectionError):
        download_events(
            "OPRA.PILLAR", ["tbbo"], ["SPY"], "2024-01-01", "2024-01-02", tmp_path, fetch=broken
        )
    fetched: list[str] = []
    _download(opra, tmp_path, fetched)
    assert fetched == ["definition", "tbbo"]
