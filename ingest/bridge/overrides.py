"""The operators' id overrides file (TOML or JSON), read strictly, and its change signature.

    # FLOWTAPE_ID_OVERRIDES=/etc/flowtape/id-overrides.toml
    [[override]]
    source = "databento"              # the ingest source's name
    id = "1234@2026-01-05"            # the id as the source's id space writes it
    symbol = "SPY   260116C00600000"  # the canonical instrument it stands for

JSON holds the same list: `{"override": [{"source": ..., "id": ..., "symbol": ...}]}`. Every
entry needs exactly those three non-empty fields, and one (source, id) is listed once; any
other shape is an `OverridesError` naming the file and the entry, in one line.
"""

from __future__ import annotations

import hashlib
import json
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schemas.errors import ConfigError

FIELDS = ("source", "id", "symbol")

# source -> {id as written -> canonical symbol}
OverrideTable = dict[str, dict[str, str]]


class OverridesError(ConfigError):
    """The overrides file cannot be used (missing, malformed, or refused by strict mode)."""

    code = "id_overrides"


@dataclass(frozen=True, slots=True)
class Signature:
    """What a cheap stat() tells of the file: a rewrite or an atomic replace changes it."""

    mtime_ns: int
    size: int
    inode: int


def signature(path: Path) -> Signature:
    """The file's signature; OSError when it cannot be seen."""
    stat = os.stat(path)
    return Signature(stat.st_mtime_ns, stat.st_size, stat.st_ino)


def digest(text: bytes) -> str:
    return hashlib.blake2b(text, digest_size=16).hexdigest()


def parse_overrides(path: Path, text: bytes) -> OverrideTable:
    """The overrides of `text` (the content of `path`; its suffix names the format)."""
    try:
        if path.suffix.lower() == ".json":
            document: Any = json.loads(text)
        else:
            document = tomllib.loads(text.decode())
    except (ValueError, UnicodeDecodeError) as exc:
        message = " ".join(str(exc).split())
        raise OverridesError(f"{path}: not valid {_format(path)}: {message}") from exc
    if not isinstance(document, Mapping) or set(document) - {"override"}:
        raise OverridesError(f"{path}: expected only a list named 'override' at the top level")
    entries = document.get("override", [])
    if not isinstance(entries, list):
        raise OverridesError(f"{path}: 'override' must be a list of entries")
    table: OverrideTable = {}
    for number, entry in enumerate(entries, 1):
        source, ident, symbol = _entry(path, number, entry)
        listed = table.setdefault(source, {})
        if ident in listed:
            raise OverridesError(f"{path}: entry {number}: {source} id {ident!r} is listed twice")
        listed[ident] = symbol
    return table


def _format(path: Path) -> str:
    return "JSON" if path.suffix.lower() == ".json" else "TOML"


def _entry(path: Path, number: int, entry: Any) -> tuple[str, str, str]:
    if not isinstance(entry, Mapping) or set(entry) != set(FIELDS):
        found = sorted(entry) if isinstance(entry, Mapping) else type(entry).__name__
        raise OverridesError(
            f"{path}: entry {number}: expected the fields {', '.join(FIELDS)}, got {found}"
        )
    values: list[str] = []
    for name in FIELDS:
        value = entry[name]
        if isinstance(value, int) and not isinstance(value, bool) and name == "id":
            value = str(value)  # contract ids written as numbers
        if not isinstance(value, str) or not value.strip():
            raise OverridesError(
                f"{path}: entry {number}: {name} must be non-empty text, got {value!r}"
            )
        values.append(value)
    return values[0], values[1], values[2]
