"""DBN files -> events, record by record, merged in canonical order (streaming)."""

from __future__ import annotations

import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import databento_dbn as dbn
import zstandard

from ingest.databento.parsing import RecordNormaliser
from ingest.merge import canonical_stream, merge_canonical
from schemas.errors import FlowtapeError
from schemas.events import Event, Quarantined

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
TRUNCATED = "truncated_dbn"  # the quarantine reason of a file that stops short
_HEADER = struct.Struct("<4sI")  # "DBN" and the version, then the metadata's length


class DbnReadError(FlowtapeError):
    """A DBN file could not be read to its end; `reason` is the quarantine reason."""

    code = "dbn_read"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_dbn(path: str | Path, chunk_bytes: int = 1 << 20) -> Iterator[Any]:
    """Stream a DBN file (plain or zstd): first its Metadata, then its records.

    Raises `DbnReadError` (reason `malformed_dbn` or `TRUNCATED`, the latter with the
    count of records read) where the bytes stop making sense; everything decoded before that
    point has been yielded.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed in finally)
    except OSError as exc:
        raise DbnReadError("unreadable_file", f"{path}: {exc}") from exc
    try:
        decoder = dbn.DBNDecoder()
        seen_any = False
        count = 0
        try:
            for chunk in _decompressed(fh, path, chunk_bytes):
                decoder.write(chunk)
                records = decoded(decoder, str(path))
                seen_any = seen_any or bool(records)
                count += len(records)
                yield from records
        except _CutFrame as exc:
            raise _truncated(path, count - 1, "the compressed stream stops mid-frame") from exc
        if not seen_any:
            raise DbnReadError("malformed_dbn", f"{path}: no DBN metadata")
        leftover = len(decoder.buffer())
        if leftover:
            raise _truncated(path, count - 1, f"{leftover} trailing bytes are not a whole record")
    finally:
        fh.close()


def decoded(decoder: dbn.DBNDecoder, where: str) -> list[Any]:
    """`decoder.decode()`, with what the DBN library refuses as `DbnReadError(malformed_dbn)`:
    its DBNError, and the Rust panic a record shorter than its record type raises (pyo3's
    PanicException, a BaseException that `except Exception` lets through)."""
    try:
        return decoder.decode()
    except Exception as exc:  # noqa: BLE001  (DBNError and friends)
        raise DbnReadError("malformed_dbn", f"{where}: {exc}") from exc
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":  # pyo3_runtime cannot be imported
            raise
        raise DbnReadError("malformed_dbn", f"{where}: {str(exc).splitlines()[0]}") from exc


class _CutFrame(Exception):
    """The file ends inside a zstd frame."""


def _truncated(path: str | Path, records: int, why: str) -> DbnReadError:
    return DbnReadError(TRUNCATED, f"{path}: truncated after {records:,} records ({why})")


def _decompressed(fh: BinaryIO, path: str | Path, chunk_bytes: int) -> Iterator[bytes]:
    """The file's bytes, decompressed frame by frame when it is zstd; `_CutFrame` when the
    last frame stops before its end (zstd's stream reader returns such a tail silently)."""
    magic = fh.read(4)
    fh.seek(0)
    if magic != _ZSTD_MAGIC:
        while chunk := fh.read(chunk_bytes):
            yield chunk
        return
    context = zstandard.ZstdDecompressor()
    frame = context.decompressobj()
    in_frame = False
    while data := fh.read(chunk_bytes):
        while data:
            try:
                out = frame.decompress(data)
            except zstandard.ZstdError as exc:
                raise DbnReadError("malformed_dbn", f"{path}: zstd: {exc}") from exc
            in_frame = True
            if out:
                yield out
            if not frame.eof:
                break  # the frame took all of `data` and wants more
            data = frame.unused_data
            frame = context.decompressobj()
            in_frame = False
    if in_frame:
        raise _CutFrame


@dataclass(frozen=True, slots=True)
class DbnSurvey:
    """What one pass over a DBN file tells without decoding its records: the receive times
    of its first and last record (0 without records) and whether it ends where a record and
    its compressed frame end (files of one schema, whose records share a size)."""

    first_ts_recv: int
    last_ts_recv: int
    complete: bool


def survey_dbn(path: str | Path, chunk_bytes: int = 1 << 20) -> DbnSurvey | None:
    """The file's `DbnSurvey`; None when its metadata cannot be read."""
    records = read_dbn(path, chunk_bytes)
    try:
        metadata = next(records, None)
        first = next(records, None)
    except DbnReadError:
        return None
    if not isinstance(metadata, dbn.Metadata):
        return None
    if first is None:
        return DbnSurvey(0, 0, complete=True)
    record_size = int(first.record_size())
    header = b""
    tail = b""
    total = 0
    complete = True
    with open(path, "rb") as fh:
        try:
            for chunk in _decompressed(fh, path, chunk_bytes):
                if len(header) < _HEADER.size:
                    header = (header + chunk)[: _HEADER.size]
                total += len(chunk)
                tail = (tail + chunk)[-2 * record_size :]
        except (_CutFrame, DbnReadError):
            complete = False
    leftover = (total - _HEADER.size - _HEADER.unpack(header)[1]) % record_size
    end = len(tail) - leftover
    last = _decode(tail[end - record_size : end], metadata.version) or first
    return DbnSurvey(_ts_recv(first), _ts_recv(last), complete=complete and leftover == 0)


def _decode(raw: bytes, version: int) -> Any:
    """The one record in `raw`, or None when it does not decode as one."""
    decoder = dbn.DBNDecoder(has_metadata=False, input_version=version)
    decoder.write(raw)
    try:
        records = decoded(decoder, "the last record")
    except DbnReadError:  # records of several sizes: the first one stands in
        return None
    return records[0] if len(records) == 1 else None


def _ts_recv(record: Any) -> int:
    return int(getattr(record, "ts_recv", record.ts_event))


def normalise_records(records: Iterable[Any], normaliser: RecordNormaliser) -> Iterator[Event]:
    """Records through the normaliser, in input order; a read error becomes a quarantine.

    The file's order-book records are grouped on their own (`RecordNormaliser.book_stream`),
    and the events the file leaves unfinished come out at its end.
    """
    # A read error is stamped with this file's last receive time, so where it lands in a
    # merge does not depend on how the other files were interleaved.
    last_ts_recv = 0
    books = normaliser.book_stream()
    failure: DbnReadError | None = None
    try:
        for record in records:
            events = normaliser(record, books)
            if events:
                last_ts_recv = events[-1].ts_recv
                yield from events
    except DbnReadError as exc:
        failure = exc
    for event in normaliser.flush_books(books):
        last_ts_recv = max(last_ts_recv, event.ts_recv)
        yield event
    if failure is not None:
        normaliser.counters[f"quarantined:{failure.reason}"] += 1
        yield Quarantined(
            ts_recv=last_ts_recv,
            source=normaliser.source,
            reason=failure.reason,
            detail=failure.detail,
        )


class _OpenFile:
    """A DBN file whose metadata is already in the normaliser, ready to stream events."""

    def __init__(self, path: str, normaliser: RecordNormaliser, chunk_bytes: int) -> None:
        self.path = path
        self._records = read_dbn(path, chunk_bytes)
        self._failed: DbnReadError | None = None
        self.definitions = False
        try:
            first = next(self._records)
        except StopIteration:
            first = None
        except DbnReadError as exc:
            self._failed = exc
            first = None
        if isinstance(first, dbn.Metadata):
            normaliser.add_metadata(first)
            self.definitions = first.schema == dbn.Schema.DEFINITION
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
    definitions and symbology in one file serve the others: `definition` files are read
    whole first (a streaming merge normalises each file's next record ahead of the others,
    which would let a record be resolved before the definition it needs; CME instruments
    have no other name). A malformed file ends in a `Quarantined` event; the other files
    carry on.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    normaliser = normaliser or RecordNormaliser()
    opened = [_OpenFile(str(p), normaliser, chunk_bytes) for p in paths]
    opened.sort(key=lambda f: not f.definitions)  # stable: file order otherwise
    streams: list[Iterable[Event]] = []
    for file in opened:
        stream = canonical_stream(
            normalise_records(file.records(), normaliser),
            reorder_window_ns,
            source=normaliser.source,
        )
        streams.append(list(stream) if file.definitions else stream)
    if len(streams) == 1:
        return iter(streams[0])
    return merge_canonical(streams)
