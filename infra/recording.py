"""The Parquet recording of the log: its layout, atomic files, position, and reading it back.

    <root>/date=YYYY-MM-DD/venue=<venue>/type=<type>/part-<first>-<last>.parquet

`first` and `last` are the log positions (RAW stream sequences) of the rotation that wrote
the file. A file appears under its final name only when complete: it is written to a hidden
`.part-….tmp` in the same folder, fsynced, renamed, and the folder fsynced, so a reader (or
a crash at any instant) never meets half a file. `position.json` at the root names the last
position whose files are all committed; on start the recorder removes temporary files and
the files of a rotation it had not committed (they are written again, identically).

Raw rows (`trades`, `quotes`, `depth`) carry the event itself as `payload` (one-event
msgpack batch) with its `log_seq` and `log_index` (its place in the message), which is what
a replay reads back; their other columns are for people and notebooks.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.parquet as pq

from schemas.codec import decode_batch
from schemas.errors import FlowtapeError
from schemas.events import Event

RAW_TYPES = ("trades", "quotes", "depth")
DERIVED_TYPES = ("book_snapshots", "candles")
POSITION_FILE = "position.json"
_PART = re.compile(r"^part-(\d+)-(\d+)\.parquet$")


class RecordingError(FlowtapeError):
    """A recording folder holds something the recorder or a replay cannot use."""

    code = "recording"


def partition(root: Path, date: str, venue: str, kind: str) -> Path:
    """The folder of one date, venue and record type (a venue's characters other than
    letters, digits, '.', '_' and '-' percent-encoded, so any name makes one folder)."""
    return root / f"date={date}" / f"venue={quote(venue, safe='._-') or '_'}" / f"type={kind}"


def part_name(first_seq: int, last_seq: int) -> str:
    return f"part-{first_seq:012d}-{last_seq:012d}.parquet"


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomically(path: Path, table: pa.Table) -> None:
    """`table` as the Parquet file `path`, visible only once complete and on disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "wb") as out:
        pq.write_table(table, out, compression="zstd")
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, path)
    _fsync_folder(path.parent)


def committed_position(root: Path) -> int:
    """The last log position whose files are all committed (0 for a new recording)."""
    try:
        return int(json.loads((root / POSITION_FILE).read_text())["position"])
    except FileNotFoundError:
        return 0
    except (ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"{root / POSITION_FILE} is not a recorder position: {exc}") from exc


def commit_position(root: Path, position: int) -> None:
    """Record that every file up to `position` is complete (atomically, like the files)."""
    root.mkdir(parents=True, exist_ok=True)
    temporary = root / f".{POSITION_FILE}.tmp"
    with open(temporary, "w") as out:
        json.dump({"position": position}, out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(temporary, root / POSITION_FILE)
    _fsync_folder(root)


def parts(root: Path, kinds: Iterable[str]) -> list[tuple[Path, int, int]]:
    """Every complete file of the given types: (path, first position, last position)."""
    found = []
    for kind in kinds:
        for path in root.glob(f"date=*/venue=*/type={kind}/part-*.parquet"):
            match = _PART.match(path.name)
            if match:
                found.append((path, int(match[1]), int(match[2])))
    return sorted(found)


def clean(root: Path, position: int) -> list[Path]:
    """Remove temporary files and the files of rotations after `position`; returns them."""
    removed = [p for p in root.glob("**/.part-*.tmp")]
    removed += [p for p, _, last in parts(root, RAW_TYPES + DERIVED_TYPES) if last > position]
    for path in removed:
        path.unlink()
    return removed


def read_events(root: Path, *, dates: Iterable[str] | None = None) -> Iterator[Event]:
    """The recorded raw events in log order (optionally of some dates only)."""
    wanted = set(dates) if dates is not None else None
    tables = []
    for path, _, _ in parts(root, RAW_TYPES):
        date = path.parts[-4].removeprefix("date=")
        if wanted is None or date in wanted:
            tables.append(pq.read_table(path, columns=["log_seq", "log_index", "payload"]))
    if not tables:
        return
    table = pa.concat_tables(tables).sort_by([("log_seq", "ascending"), ("log_index", "ascending")])
    for payload in table.column("payload").to_pylist():
        yield decode_batch(payload)[0]
