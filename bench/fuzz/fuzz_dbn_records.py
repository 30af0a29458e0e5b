"""Fuzz the Databento edge: DBN byte streams and DBN records through `RecordNormaliser`.

An input is one selector byte and the rest. Selectors (low two bits):
0 the rest is a DBN file, read by the file path (`iter_file_events`, books on), plain or,
  with bit 2 set, zstd-compressed first;
1 the same bytes read by the column path (`bulk_file_events`);
3 the same bytes read by replay's Arrow path (`replay.sources.dbn_tables`: the Arrow
  column builder for trade and top-of-book files, the record path for the others);
2 a field-level mutation of a real record: a record of the samples (its layout and record
  type kept) with fuzzed bytes written over its fields, normalised by a normaliser that
  holds that dataset's metadata and definitions, so the record reaches the handlers behind
  symbology (a definition, trade, quote, statistic or book record).
Seeds: the head of every sample file in shared/data/databento (its metadata and first
records), and every record of the samples for the field-level mode. The parsers' declared
rejection is a Quarantined event with a reason; nothing may raise.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import atheris
from fuzzing import SCRATCH, SHARED_DATA, run

with atheris.instrument_imports(include=["ingest.databento", "ingest.merge", "replay.sources"]):
    from ingest.databento.bulk import bulk_file_events
    from ingest.databento.files import iter_file_events
    from ingest.databento.parsing import RecordNormaliser
    from replay.sources import dbn_tables

import databento_dbn as dbn
import zstandard

from schemas.events import Event, Quarantined

_HEADER_BYTES = 2  # a record's length and rtype: kept, so the layout stays that record's
_file = SCRATCH / "input.dbn"


@dataclass(frozen=True)
class Template:
    dataset: str
    version: int
    raw: bytes


def _decoded(path: Path) -> list[Any]:
    decoder = dbn.DBNDecoder()
    decoder.write(zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read())
    return list(decoder.decode())


def _samples() -> list[Path]:
    every = sorted((SHARED_DATA / "databento").glob("*/*.dbn.zst"))
    return [path for path in every if path.stat().st_size < 64_000]


_datasets: dict[str, list[Any]] = {}  # dataset -> its files' metadata, then its definitions
_templates: list[Template] = []
for _path in _samples():
    _metadata, *_records = _decoded(_path)
    _primers = _datasets.setdefault(_metadata.dataset, [])
    _primers.insert(0, _metadata)
    _primers.extend(r for r in _records if isinstance(r, dbn.InstrumentDefMsg))
    _templates.extend(Template(_metadata.dataset, _metadata.version, bytes(r)) for r in _records)


def _primed(dataset: str) -> RecordNormaliser:
    normaliser = RecordNormaliser(emit_books=True, emit_venue_quotes=True)
    for record in _datasets[dataset]:
        normaliser(record)
    return normaliser


def one(data: bytes) -> list[str]:
    if not data:
        return []
    mode = data[0] & 0b11
    if mode == 2:
        events = _mutated_record(atheris.FuzzedDataProvider(data[1:]))
    else:
        body = data[1:]
        if data[0] & 0b100:
            body = zstandard.ZstdCompressor(level=1).compress(body)
        _file.write_bytes(body)
        normaliser = RecordNormaliser(emit_books=True)
        if mode == 3:
            quarantined = dbn_tables([_file])[0].get(Quarantined)
            return [] if quarantined is None else quarantined.column("reason").to_pylist()
        if mode == 1:
            events = list(bulk_file_events(_file, normaliser=normaliser))
        else:
            events = list(iter_file_events(_file, normaliser=normaliser))
    return [event.reason for event in events if isinstance(event, Quarantined)]


def _mutated_record(fdp: atheris.FuzzedDataProvider) -> list[Event]:
    template = _templates[fdp.ConsumeIntInRange(0, len(_templates) - 1)]
    raw = bytearray(template.raw)
    for _ in range(fdp.ConsumeIntInRange(1, 4)):
        at = fdp.ConsumeIntInRange(_HEADER_BYTES, len(raw) - 1)
        value = fdp.ConsumeBytes(fdp.ConsumeIntInRange(1, 8))
        raw[at : at + len(value)] = value[: len(raw) - at]
    decoder = dbn.DBNDecoder(has_metadata=False, input_version=template.version)
    decoder.write(bytes(raw))
    try:
        records = decoder.decode()
    except Exception:  # noqa: BLE001  (bytes the DBN library itself refuses never reach us)
        return []
    normaliser = _primed(template.dataset)
    events: list[Event] = []
    for record in records:
        events.extend(normaliser(record))
    return events + normaliser.flush_books()


def seeds() -> Iterator[bytes]:
    for path in _samples():
        head = zstandard.ZstdDecompressor().stream_reader(path.open("rb")).read(6_000)
        yield b"\x00" + head
        if "trades" in path.name or "tbbo" in path.name:
            yield b"\x01" + head
        if "trades" in path.name or "mbp-1" in path.name or "tbbo" in path.name:
            yield b"\x03" + head
        if "definition" in path.name:
            yield b"\x04" + head  # compressed by the harness
    for index in range(len(_templates)):
        yield b"\x02" + index.to_bytes(2, "big") * 4


if __name__ == "__main__":
    run("dbn_records", one, seeds())
