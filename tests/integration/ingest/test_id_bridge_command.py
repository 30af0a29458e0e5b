"""`flowtape ingest` with a bad ID bridge setting fails in one line before any server starts."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.kit.ingest_process import ingest_refused


@pytest.mark.parametrize("source", [["--source", "synthetic"], ["--source", "bybit"]])
def test_a_malformed_overrides_file_fails_the_command_in_one_line(
    tmp_path: Path, source: list[str]
) -> None:
    (tmp_path / "ids.toml").write_text('[[override]]\nsource = "synthetic"\nid = "1@2026-01-05"\n')
    (tmp_path / ".env").write_text(f"FLOWTAPE_ID_OVERRIDES={tmp_path / 'ids.toml'}\n")
    assert ingest_refused([*source, "--symbols", "BTCUSDT"], tmp_path) == [
        f"error: [id_overrides] {tmp_path / 'ids.toml'}: entry 1: expected the fields source, "
        "id, symbol, got ['id', 'source']"
    ]


def test_an_unknown_bridge_mode_fails_the_command_in_one_line(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("FLOWTAPE_ID_BRIDGE_MODE=lenient\n")
    assert ingest_refused(["--source", "synthetic"], tmp_path) == [
        "error: [config] expected an id bridge mode among default, strict, shadow, got 'lenient'"
    ]
