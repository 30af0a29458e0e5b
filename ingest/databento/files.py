"""DBN files -> events, record by record, merged in canonical order (streaming)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import zstandard

from ingest.databento.parsing import RecordNormaliser
from ingest.merge import canonical_stream, merge_canonical
from schemas.errors import FlowtapeError
from schemas.events import Event, Quarantined

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class DbnReadError(FlowtapeError):
    """A DBN file could not be read to its end; `reason` is the quarantine reason."""

    code = "dbn_read"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_dbn(path: str | Path, chunk_bytes: int = 1 << 20) -> Iterator[Any]:
    """Stream a DBN file (plain or zstd): first its Metadata, then its records.

    Raises `DbnReadError` (reason `malformed_dbn` or `truncated_dbn`) where the bytes stop
    making sense; everything decoded before that point has been yielded.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed in finally; wrapped by zstd below)
    except OSError as exc:
        raise DbnReadError("unreadable_file", f"{path}: {exc}") from exc
    try:
        magic = fh.read(4)
        fh.seek(0)
        stream: Any = (
            zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
            if magic == _ZSTD_MAGIC
            else fh
        )
        decoder = dbn.DBNDecoder()
        seen_any = False
        while True:
            try:
                chunk = stream.read(chunk_bytes)
            except zstandard.ZstdError as exc:
                raise DbnReadError("malformed_dbn", f"{path}: zstd: {exc}") from exc
            if not chunk:
                break
            try:
                decoder.write(chunk)
                records = decoder.decode()
            except Exception as exc:  # noqa: BLE001  (DBNError and friends)
                raise DbnReadError("malformed_dbn", f"{path}: {exc}") from exc
            seen_any = seen_any or bool(records)
            yield from records
        if not seen_any:
            raise DbnReadError("malformed_dbn", f"{path}: no DBN metadata")
        leftover = len(decoder.buffer())
        if leftover:
            raise DbnReadError(
                "truncated_dbn", f"{path}: {leftover} trailing bytes do not make a whole record"
            )
    finally:
        fh.close()


def normalise_records(records: Iterable[Any], normaliser: RecordNormaliser) -> Iterator[Event]:
    """Records through the normaliser, in input order; a read error becomes a quarantine."""
    # A read error is stamped with this file's last receive time, so where it lands in a
    # merge does not depend on how the other files were interleaved.
    last_ts_recv = 0
    try:
        for record in records:
            events = normaliser(record)
            if events:
                last_ts_recv = events[-1].ts_recv
                yield from events
    except DbnReadError as exc:
        normaliser.counters[f"quarantined:{exc.reason}"] += 1
        yield Quarantined(
            ts_recv=last_ts_recv,
            source=normaliser.source,
            reason=exc.reason,
            detail=exc.detail,
        )


class _OpenFile:
    """A DBN file whose metadata is already in the normaliser, ready to stream events."""

    def __init__(self, path: str, normaliser: RecordNormaliser, chunk_bytes: int) -> None:
        self.path = path
        self._records = read_dbn(path, chunk_bytes)
        self._failed: DbnReadError | None = None
        try:
            first = next(self._records)
        except StopIteration:
            first = None
        except DbnReadError as exc:
            self._failed = exc
            first = None
        if isinstance(first, dbn.Metadata):
            normaliser.add_metadata(first)
        elif first is not None:
            self._failed = DbnReadError("malformed_dbn", f"{path}: no DBN metadata")

    def records(self) -> Iterator[Any]:
        if self._failed is not None:
            raise self._failed
        yield from self._records


def iter_file_events(
    paths: str | Path | Iterable[str | Path],
    *,
    normaliser: RecordNormaliser | None = None,
    reorder_window_ns: int | None = 0,
    chunk_bytes: int = 1 << 20,
) -> Iterator[Event]:
    """Events of one or more DBN files, merged in canonical order (synchronous, streaming).

    Every file is read in chunks and merged k-way by `ts_recv` with canonical tie-breaks,
    so memory does not grow with the session. All files share one normaliser, so
    definitions and symbology in one file serve the others. A malformed file ends in a
    `Quarantined` event; the other files carry on.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    normaliser = normaliser or RecordNormaliser()
    opened = [_OpenFile(str(p), normaliser, chunk_bytes) for p in paths]
    streams = [
        canonical_stream(
            normalise_records(f.records(), normaliser),
            reorder_window_ns,
            source=normaliser.source,
        )
        for f in opened
    ]
    if len(streams) == 1:
        return streams[0]
    return merge_canonical(streams)
