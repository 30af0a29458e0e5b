"""GLBX files in a replay request: told apart by their metadata, replayed whole."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.alpha import glbx_paths
from replay.session import ReplayError, ReplayRequest


def test_glbx_files_are_told_by_their_dataset(shared_data: Path) -> None:
    glbx = shared_data / "GLBX.MDP3" / "test_data.trades.dbn.zst"
    opra = next((shared_data / "OPRA.PILLAR").glob("*.dbn.zst"))
    assert glbx_paths([opra, glbx]) == [glbx]


def test_a_window_over_glbx_files_is_refused_before_any_server(shared_data: Path) -> None:
    glbx = shared_data / "GLBX.MDP3" / "test_data.trades.dbn.zst"
    ReplayRequest(paths=(glbx,)).check()
    with pytest.raises(ReplayError, match="GLBX sessions are replayed whole"):
        ReplayRequest(paths=(glbx,), start="2020-12-28T14:30:00").check()
