"""DBN encoding for the synthetic market: columnar record arrays in Databento's binary layout.

A record built as `databento_dbn.TradeMsg(...)` and serialised with `bytes()` is a fixed-size
little-endian struct; `databento_dbn` publishes that layout as the class attribute `_dtypes`.
Building a numpy structured array with that dtype lets a million records be filled column by
column and written with one `tobytes()`; the unit tests check that the bytes equal
`bytes(record)` of the same record built through `databento_dbn`, so nothing is hand-rolled
but the vectorisation.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import numpy as np
import zstandard

UNDEF_PRICE = dbn.UNDEF_PRICE
UNDEF_TIMESTAMP = dbn.UNDEF_TIMESTAMP
F_LAST = dbn.F_LAST
F_TOB = dbn.F_TOB


def _dtype(record_type: Any) -> np.dtype:
    fields = [
        (name, "<" + code if code[0] in "iuf" else code) for name, code in record_type._dtypes
    ]
    dtype = np.dtype(fields)
    if dtype.itemsize != record_type.size_hint:
        raise RuntimeError(
            f"{record_type.__name__}: layout from _dtypes is {dtype.itemsize} bytes, "
            f"databento_dbn says {record_type.size_hint}"
        )
    return dtype


TRADE = _dtype(dbn.TradeMsg)
MBP1 = _dtype(dbn.MBP1Msg)
MBP10 = _dtype(dbn.MBP10Msg)
CMBP1 = _dtype(dbn.CMBP1Msg)
STAT = _dtype(dbn.StatMsg)
DEFINITION = _dtype(dbn.InstrumentDefMsg)

_RTYPES = {
    "trades": int(dbn.RType.MBP_0),
    "tbbo": int(dbn.RType.MBP_1),
    "mbp-1": int(dbn.RType.MBP_1),
    "mbp-10": int(dbn.RType.MBP_10),
    "tcbbo": int(dbn.RType.TCBBO),
    "cmbp-1": int(dbn.RType.CMBP_1),
    "statistics": int(dbn.RType.STATISTICS),
    "definition": int(dbn.RType.INSTRUMENT_DEF),
}
_DTYPES = {
    "trades": TRADE,
    "tbbo": MBP1,
    "mbp-1": MBP1,
    "mbp-10": MBP10,
    "tcbbo": CMBP1,
    "cmbp-1": CMBP1,
    "statistics": STAT,
    "definition": DEFINITION,
}


def empty_records(schema: str, n: int) -> np.ndarray:
    """`n` zeroed records of `schema` with the header (length, rtype) filled in."""
    dtype = _DTYPES[schema]
    records = np.zeros(n, dtype=dtype)
    records["length"] = dtype.itemsize // 4
    records["rtype"] = _RTYPES[schema]
    return records


@dataclass(frozen=True)
class SymbolInterval:
    """When a raw symbol maps to `symbol` (an instrument id): the shape dbn.Metadata reads."""

    start_date: dt.date
    end_date: dt.date
    symbol: str


@dataclass(frozen=True)
class SymbolMapping:
    raw_symbol: str
    intervals: list[SymbolInterval]


def day_mappings(symbols: Iterable[tuple[str, int]], date: dt.date) -> list[SymbolMapping]:
    """Metadata mappings of (raw symbol, instrument id) pairs, valid for the one `date`."""
    end_date = date + dt.timedelta(days=1)
    return [SymbolMapping(raw, [SymbolInterval(date, end_date, str(iid))]) for raw, iid in symbols]


@dataclass
class DbnFile:
    """One output file: dataset, schema, the record array (in `ts_recv` order) and symbology.

    `symbology` maps `instrument_id` to the raw symbol (OCC symbol or ticker) of the ids that
    appear in this file's dataset; it becomes the file's metadata mappings.
    """

    dataset: str
    schema: str
    records: np.ndarray
    symbology: dict[int, str] = field(default_factory=dict)

    def file_name(self, date: dt.date) -> str:
        """Databento's batch naming, e.g. `opra-pillar-20250220.tcbbo.dbn.zst`."""
        stem = self.dataset.lower().replace(".", "-")
        return f"{stem}-{date:%Y%m%d}.{self.schema}.dbn.zst"

    def metadata(self, date: dt.date) -> dbn.Metadata:
        """DBN metadata for one trading day, stype raw_symbol -> instrument_id like real files."""
        start = int(dt.datetime(date.year, date.month, date.day, tzinfo=dt.UTC).timestamp())
        by_symbol = sorted((symbol, iid) for iid, symbol in self.symbology.items())
        return dbn.Metadata(
            dataset=self.dataset,
            start=start * 1_000_000_000,
            end=(start + 86_400) * 1_000_000_000,
            stype_in=dbn.SType.RAW_SYMBOL,
            stype_out=dbn.SType.INSTRUMENT_ID,
            schema=dbn.Schema.from_str(self.schema),
            symbols=[symbol for symbol, _ in by_symbol],
            mappings=day_mappings(by_symbol, date),
            ts_out=False,
        )

    def encode(self, date: dt.date) -> bytes:
        """The uncompressed DBN stream: metadata then records."""
        return bytes(self.metadata(date)) + self.records.tobytes()

    def write(self, out_dir: Path, date: dt.date, *, level: int = 3) -> Path:
        """Write the zstd-compressed file; same records -> same bytes."""
        path = out_dir / self.file_name(date)
        compressor = zstandard.ZstdCompressor(level=level, write_content_size=False)
        with path.open("wb") as handle, compressor.stream_writer(handle) as writer:
            writer.write(bytes(self.metadata(date)))
            view = memoryview(self.records.view(np.uint8).reshape(-1))
            chunk = 1 << 24
            for start in range(0, len(view), chunk):
                writer.write(view[start : start + chunk])
        return path

    def iter_records(self, batch: int = 65_536) -> Iterator[Any]:
        """Decode the records back into `databento_dbn` record objects, in file order."""
        decoder = dbn.DBNDecoder(has_metadata=False, input_version=dbn.DBN_VERSION)
        for start in range(0, len(self.records), batch):
            decoder.write(self.records[start : start + batch].tobytes())
            yield from decoder.decode()


def write_files(
    files: Iterable[DbnFile],
    out_dir: Path,
    date: dt.date,
    report: Callable[[str, int, int], None],
    total: int,
) -> list[Path]:
    """Write each file into `out_dir`; `report` is told each file's name as it starts, with the
    records written before it of `total`."""
    done = 0
    paths = []
    for f in files:
        report(f.file_name(date), done, total)
        paths.append(f.write(out_dir, date))
        done += len(f.records)
    return paths


def fixed_str(values: Sequence[str], width: int) -> np.ndarray:
    """Encode strings as NUL-padded C strings of `width` bytes."""
    return np.array([value.encode("ascii") for value in values], dtype=f"S{width}")
