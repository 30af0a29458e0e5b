"""A labels file as a person names it: read it, or say in one line why not."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import msgspec

from schemas.errors import FlowtapeError
from schemas.labels import SIDES_FILE, Label, PrintSide, read_labels, read_sides

T = TypeVar("T")


class LabelsError(FlowtapeError):
    """A labels file that is missing, unreadable or not labels."""

    code = "labels"


def load_labels(path: Path) -> list[Label]:
    """The labels in `path` (`labels.jsonl`), or LabelsError."""
    return _read(path, read_labels, "label")


def load_sides(labels_path: Path) -> list[PrintSide]:
    """The true sides in `sides.jsonl` beside a labels file (none when there is no such
    file), or LabelsError."""
    path = labels_path.with_name(SIDES_FILE)
    return _read(path, read_sides, "print side") if path.exists() else []


def _read(path: Path, read: Callable[[Path], list[T]], what: str) -> list[T]:
    try:
        return read(path)
    except FileNotFoundError as exc:
        raise LabelsError(f"no labels file at {path}") from exc
    except OSError as exc:
        raise LabelsError(f"cannot read labels file {path}: {exc.strerror or exc}") from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LabelsError(f"expected one {what} per line in {path}: {exc}") from exc
