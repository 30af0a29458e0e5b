"""Files other processes read while they are being rewritten."""

from __future__ import annotations

import json
import os
from pathlib import Path


def write_json_atomically(
    path: Path, value: object, *, sort_keys: bool = False, indent: int | None = None,
    mode: int = 0o644,
) -> None:  # fmt: skip
    """`value` as JSON at `path`, written aside and renamed, so a reader never sees half a
    file; the folder is made if needed and a new file gets `mode`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "w") as out:
        json.dump(value, out, sort_keys=sort_keys, indent=indent)
    os.replace(temporary, path)
