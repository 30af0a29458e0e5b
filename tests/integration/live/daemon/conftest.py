"""Fixtures of the daemon tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


@pytest.fixture
def socket_path() -> Iterator[Path]:
    """A socket path in a short folder of its own (Unix socket paths stop at 107 bytes)."""
    folder = Path(tempfile.mkdtemp(prefix="ftd", dir="/tmp"))  # noqa: S108  (short on purpose)
    yield folder / "daemon.sock"
    shutil.rmtree(folder, ignore_errors=True)
