"""Errors the commands raise for what reaches them from outside flowtape."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from schemas.errors import FlowtapeError


class OutputError(FlowtapeError):
    """A file or folder a command was told to write cannot be written."""

    code = "output"


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """OSErrors inside the block as an `OutputError` naming `path`."""
    try:
        yield
    except OSError as exc:
        raise OutputError(f"cannot write {path}: {exc.strerror or exc}") from exc


class SqlError(FlowtapeError):
    """ClickHouse refused or failed SQL a person wrote."""

    code = "sql"
