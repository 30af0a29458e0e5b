"""A labels file as a person names it: read it, or say in one line why not."""

from __future__ import annotations

from pathlib import Path

import msgspec

from schemas.errors import FlowtapeError
from schemas.labels import Label, read_labels


class LabelsError(FlowtapeError):
    """A labels file that is missing, unreadable or not labels."""

    code = "labels"


def load_labels(path: Path) -> list[Label]:
    """The labels in `path` (`labels.jsonl`), or LabelsError."""
    try:
        return read_labels(path)
    except FileNotFoundError as exc:
        raise LabelsError(f"no labels file at {path}") from exc
    except OSError as exc:
        raise LabelsError(f"cannot read labels file {path}: {exc.strerror or exc}") from exc
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise LabelsError(f"expected one label per line in {path}: {exc}") from exc
