"""A DBN file cut short is reported as truncated, with how many records were read."""

from __future__ import annotations

from pathlib import Path

import databento_dbn as dbn
import pytest
import zstandard

from ingest.databento.bulk import bulk_file_events
from ingest.databento.files import DbnReadError, iter_file_events, read_dbn, survey_dbn
from replay.sources import dbn_tables
from schemas.events import OptionPrint, Quarantined
from tests.unit.ingest.dbn_files import T0, metadata, trade

SYMBOLS = {"SPY   250221C00600000": 1001}


def whole_records_then_cut_frame(path: Path, kept: int, dropped: int) -> Path:
    """A zstd file whose frame stops right after `kept` whole trades: what a download cut
    between two compressed blocks leaves (no partial record to notice)."""
    records = [trade(1001, T0 + n, 1_000_000_000, 1, sequence=n + 1) for n in range(kept + dropped)]
    compressor = zstandard.ZstdCompressor().compressobj()
    head = bytes(metadata(SYMBOLS)) + b"".join(bytes(r) for r in records[:kept])
    kept_bytes = compressor.compress(head) + compressor.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
    compressor.compress(b"".join(bytes(r) for r in records[kept:]))
    path.write_bytes(kept_bytes)
    return path


def test_a_frame_cut_between_whole_records_is_truncated_with_the_count_read(
    tmp_path: Path,
) -> None:
    path = whole_records_then_cut_frame(tmp_path / "cut.trades.dbn.zst", kept=40, dropped=60)
    read = []
    with pytest.raises(DbnReadError, match=r"truncated after 40 records") as raised:
        read.extend(read_dbn(path))
    assert raised.value.reason == "truncated_dbn"
    assert len(read) == 1 + 40  # the metadata and every whole record
    survey = survey_dbn(path)
    assert survey is not None and not survey.complete


def test_a_file_cut_mid_record_is_truncated_with_the_count_read(tmp_path: Path) -> None:
    records = [trade(1001, T0 + n, 1_000_000_000, 1, sequence=n + 1) for n in range(10)]
    raw = bytes(metadata(SYMBOLS)) + b"".join(bytes(r) for r in records)
    path = tmp_path / "cut.trades.dbn"
    path.write_bytes(raw[:-7])
    with pytest.raises(DbnReadError, match=r"truncated after 9 records"):
        list(read_dbn(path))


def test_a_whole_file_surveys_complete_from_its_first_to_its_last_record(tmp_path: Path) -> None:
    records = [trade(1001, T0 + n * 1000, 1_000_000_000, 1, sequence=n + 1) for n in range(10)]
    raw = bytes(metadata(SYMBOLS)) + b"".join(bytes(r) for r in records)
    path = tmp_path / "whole.trades.dbn.zst"
    path.write_bytes(zstandard.ZstdCompressor().compress(raw))
    survey = survey_dbn(path)
    assert survey is not None and survey.complete
    assert (survey.first_ts_recv, survey.last_ts_recv) == (T0, T0 + 9000)


def test_a_record_shorter_than_its_type_is_malformed_not_a_panic(tmp_path: Path) -> None:
    # The DBN library panics (pyo3's PanicException, a BaseException) on such a record.
    records = [trade(1001, T0 + n, 1_000_000_000, 1, sequence=n + 1) for n in range(3)]
    raw = bytearray(bytes(metadata(SYMBOLS)) + b"".join(bytes(r) for r in records))
    at = len(bytes(metadata(SYMBOLS))) + len(bytes(records[0]))
    raw[at] = 9  # 36 bytes, where a trade has 48
    path = tmp_path / "short.trades.dbn"
    path.write_bytes(bytes(raw[: at + 36]))
    with pytest.raises(DbnReadError, match="expected length of at least 48 bytes") as raised:
        list(read_dbn(path))
    assert raised.value.reason == "malformed_dbn"
    events = list(iter_file_events(path))
    assert isinstance(events[-1], Quarantined) and events[-1].reason == "malformed_dbn"


@pytest.mark.parametrize("version", [0, 3, 4, 9])
def test_the_column_path_reads_a_file_of_any_dbn_version_byte_as_the_record_path_does(
    tmp_path: Path, version: int
) -> None:
    # The DBN library reads a version-0 header as the current layout but refuses version 0
    # for single records, which the column path decodes for rows it routes to the record path
    # (here the unmapped instrument 2002): such a file is read by the record path whole.
    ids = [1001, 2002, 1001]
    records = [trade(ids[n], T0 + n, 1_000_000_000, 1, sequence=n + 1) for n in range(3)]
    head = metadata(SYMBOLS, schema=dbn.Schema.TRADES)
    raw = bytearray(bytes(head) + b"".join(bytes(r) for r in records))
    raw[3] = version  # the header is "DBN" then the version byte
    path = tmp_path / "odd-version.trades.dbn"
    path.write_bytes(bytes(raw))
    by_records = list(iter_file_events(path))
    assert list(bulk_file_events(path)) == by_records
    reasons = [e.reason for e in by_records if isinstance(e, Quarantined)]
    tables = dbn_tables([path])[0]
    assert tables[Quarantined].column("reason").to_pylist() == reasons
    prints = sum(isinstance(e, OptionPrint) for e in by_records)
    assert (tables[OptionPrint].num_rows if OptionPrint in tables else 0) == prints
    assert reasons == (["malformed_dbn"] if version > 3 else ["unmapped_instrument"])


def test_a_mapping_to_an_instrument_id_past_64_bits_leaves_the_records_unmapped(
    tmp_path: Path,
) -> None:
    huge = {"SPY   250221C00600000": 10**40}  # the mapped "instrument id" of a corrupt file
    head = metadata(huge, schema=dbn.Schema.TRADES)
    records = [trade(1001, T0 + n, 1_000_000_000, 1, sequence=n + 1) for n in range(2)]
    path = tmp_path / "huge-id.trades.dbn"
    path.write_bytes(bytes(head) + b"".join(bytes(r) for r in records))
    for read in (iter_file_events, bulk_file_events):
        reasons = [e.reason for e in read(path) if isinstance(e, Quarantined)]
        assert reasons == ["unmapped_instrument"] * 2, read.__name__
