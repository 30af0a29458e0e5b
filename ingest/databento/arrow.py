"""DBN files -> raw Arrow tables (`schemas.raw_arrow`), prints built column-wise.

A trade file (`trades`, `tbbo`, `tcbbo`) is decoded with `DBNStore.to_ndarray`; the rows the
record path would take as they are become print columns without per-row Python objects
(who each row is about is resolved once per publisher, instrument and day). Every other row
goes through `RecordNormaliser` itself, and a row behind what the file already released
becomes the `out_of_order` quarantine `ingest.merge` makes of it, so the events are those of
`ingest.databento.bulk`. Files of other schemas take the record path whole. Tables come out
per chunk in file order; `schemas.arrow_order` puts them in canonical order.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from databento import DBNStore

from infra.warehouse import events_to_arrow
from ingest.databento.builders import equity_print, option_print
from ingest.databento.bulk import PrintTarget, _record_of, resolve_rows
from ingest.databento.files import iter_file_events
from ingest.databento.parsing import RecordNormaliser
from ingest.databento.symbology import OPTION
from ingest.merge import _late
from schemas.derived_tables import TIMESTAMP
from schemas.events import (
    SCHEMA_VERSION,
    UNDEF_PRICE,
    EquityPrint,
    Event,
    OptionPrint,
    Quarantined,
)
from schemas.raw_arrow import RAW_SCHEMAS

TablesByType = dict[type[Event], list[pa.Table]]

_PRINTS = (OptionPrint, EquityPrint)


def events_tables(events: list[Event]) -> TablesByType:
    """Events (any mix of types) as raw tables, one per type, in their order."""
    grouped: defaultdict[type[Event], list[Event]] = defaultdict(list)
    for event in events:
        grouped[type(event)].append(event)
    return {
        event_type: [
            events_to_arrow(group, run_id="", log_seqs=[0] * len(group)).drop_columns(
                ["run_id", "log_seq"]
            )
        ]
        for event_type, group in grouped.items()
    }


def merge_tables(into: TablesByType, more: TablesByType) -> None:
    for event_type, tables in more.items():
        into.setdefault(event_type, []).extend(tables)


def record_path_tables(
    path: str | Path, normaliser: RecordNormaliser, *, keep_prints: bool = True
) -> TablesByType:
    """A file the record path reads (prints left out unless `keep_prints`)."""
    events = [
        event
        for event in iter_file_events(path, normaliser=normaliser)
        if keep_prints or not isinstance(event, _PRINTS)
    ]
    return events_tables(events)


def trade_file_tables(
    store: DBNStore, schema: str, normaliser: RecordNormaliser, chunk_records: int = 1 << 20
) -> Iterator[TablesByType]:
    """A whole trade file's tables, chunk by chunk in file order (`schema` one of
    `ingest.databento.bulk.BULK_SCHEMAS`)."""
    normaliser.add_metadata(store.metadata)
    chunks = iter(store.to_ndarray(count=chunk_records))
    file = _FileOrder(normaliser.source)
    while True:
        try:
            array = next(chunks)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001  (a broken file ends in a quarantine)
            normaliser.counters["quarantined:malformed_dbn"] += 1
            broken = Quarantined(
                ts_recv=file.last_ts_recv,
                source=normaliser.source,
                reason="malformed_dbn",
                detail=f"{store}: {type(exc).__name__}: {exc}",
            )
            if broken.ts_recv < file.newest:
                broken = _late(broken, file.newest, file.source)
            yield events_tables([broken])
            return
        if len(array):
            yield _chunk_tables(array, schema, normaliser, store.metadata.version, file)


class _FileOrder:
    """What one file has released so far: the newest receive time (`ingest.merge`'s order
    check) and the receive time of its last event (a broken file's quarantine time)."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.newest = -1
        self.last_ts_recv = 0


def _chunk_tables(
    array: Any, schema: str, normaliser: RecordNormaliser, version: int, file: _FileOrder
) -> TablesByType:
    n = len(array)
    ts_recv = array["ts_recv"].astype(np.int64)
    targets = _resolve(array, normaliser)
    special = targets.special
    # Each row's newest receive time before it (what `ingest.merge` compares it with): a
    # plain row adds its own, a record-path row the times of the events it became.
    contributes = np.where(special, -1, ts_recv)
    plain_newest = np.maximum.accumulate(contributes)
    slow: list[Event] = []
    special_rows = np.flatnonzero(special).tolist()
    newest = file.newest
    for row in special_rows:
        if row:
            normaliser.saw_ts_recv(int(array["ts_recv"][row - 1]))
            newest = max(newest, int(plain_newest[row - 1]))
        for event in normaliser(_record_of(array[row].tobytes(), version)):
            slow.append(_late(event, newest, file.source) if event.ts_recv < newest else event)
            newest = max(newest, event.ts_recv)
            file.last_ts_recv = event.ts_recv
        contributes[row] = newest
    newest_before = np.maximum.accumulate(np.r_[file.newest, contributes[:-1]])
    plain = ~special
    late = plain & (ts_recv < newest_before)
    for row in np.flatnonzero(late).tolist():
        event = targets.print_struct(array, row, schema, normaliser.source)
        slow.append(_late(event, int(newest_before[row]), file.source))
    keep = plain & ~late
    file.newest = max(file.newest, int(contributes.max()))
    last_plain = int(np.flatnonzero(plain)[-1]) if plain.any() else -1
    if last_plain >= 0 and (not special_rows or last_plain > special_rows[-1]):
        file.last_ts_recv = int(ts_recv[last_plain])
    is_option = targets.is_option
    n_plain = int(np.count_nonzero(plain))
    n_option = int(np.count_nonzero(plain & is_option))
    counters = normaliser.counters
    counters["records"] += n - len(special_rows)
    if n_option:
        counters["OptionPrint"] += n_option
        if schema == "tbbo":
            counters["venue_bbo_dropped"] += n_option
    if n_plain - n_option:
        counters["EquityPrint"] += n_plain - n_option
    normaliser.saw_ts_recv(int(array["ts_recv"][-1]))
    tables = events_tables(slow)
    for event_type, rows in ((OptionPrint, keep & is_option), (EquityPrint, keep & ~is_option)):
        if rows.any():
            table = targets.print_table(event_type, array, rows, schema, normaliser.source)
            tables.setdefault(event_type, []).append(table)
    return tables


@dataclass(frozen=True, slots=True)
class _Targets:
    """Who a chunk's rows are about: per (publisher, instrument, day) its publisher, symbol and
    underlying (`ingest.databento.bulk.PrintTarget`, None where the record path decides), per
    row its index into those, whether it is an option, and whether the record path takes it."""

    targets: list[PrintTarget | None]
    index: Any
    is_option: Any
    special: Any

    def _column(self, values: list[Any], arrow_type: pa.DataType, rows: Any) -> pa.Array:
        return pc.take(pa.array(values, arrow_type), pa.array(self.index[rows]))

    def print_table(
        self, event_type: type[Event], array: Any, rows: Any, schema: str, source: str
    ) -> pa.Table:
        """The print table of `rows` (all plain, all of `event_type`)."""
        a = array[rows]
        n = len(a)
        names = a.dtype.names or ()
        null = pa.nulls(n, pa.int64())
        with_bbo = schema == "tcbbo" or (schema == "tbbo" and event_type is EquityPrint)
        pubs = [t[0] if t else None for t in self.targets]
        values: dict[str, pa.Array] = {
            "ts_recv": _ints(a["ts_recv"]).view(TIMESTAMP),
            "schema_version": pa.repeat(pa.scalar(SCHEMA_VERSION, pa.int64()), n),
            "ts_event": _ints(a["ts_event"]).view(TIMESTAMP),
            "publisher_id": _ints(a["publisher_id"]),
            "instrument_id": _ints(a["instrument_id"]),
            "source": pa.repeat(pa.scalar(source, pa.string()), n),
            "symbol": self._column([t[2] if t else "" for t in self.targets], pa.string(), rows),
            "sequence": _ints(a["sequence"]) if "sequence" in names else _ints(np.zeros(n)),
            "price": _ints(a["price"]),
            "size": _ints(a["size"]),
            "side": pa.array(a["side"].astype("U1"), pa.string()),
            "flags": _ints(a["flags"]),
            "bid_px": _prices(a["bid_px_00"]) if with_bbo else null,
            "ask_px": _prices(a["ask_px_00"]) if with_bbo else null,
            "bid_sz": _ints(a["bid_sz_00"]) if with_bbo else null,
            "ask_sz": _ints(a["ask_sz_00"]) if with_bbo else null,
        }
        if event_type is OptionPrint:
            underlyings = [t[3] if t else "" for t in self.targets]
            values["underlying"] = self._column(underlyings, pa.string(), rows)
            values["coarse"] = pa.repeat(pa.scalar(False), n)
        else:
            values["venue"] = self._column([p.venue if p else "" for p in pubs], pa.string(), rows)
            off = [bool(p and p.off_exchange) for p in pubs]
            values["off_exchange"] = self._column(off, pa.bool_(), rows)
        table_schema = RAW_SCHEMAS[event_type]
        return pa.Table.from_arrays([values[c] for c in table_schema.names], schema=table_schema)

    def print_struct(self, array: Any, row: int, schema: str, source: str) -> Event:
        """One plain row as its print event (a row out of order keeps its event as evidence)."""
        target = self.targets[int(self.index[row])]
        assert target is not None  # noqa: S101  (plain rows are resolved)
        pub, kind, symbol, underlying = target
        r = array[row]
        names = array.dtype.names or ()
        sequence = int(r["sequence"]) if "sequence" in names else 0
        common = (int(r["ts_recv"]), int(r["ts_event"]), int(r["instrument_id"]), sequence,
                  int(r["price"]), int(r["size"]), r["side"].decode(), int(r["flags"]))  # fmt: skip
        bbo: tuple[int | None, ...] = (None, None, None, None)
        if schema == "tcbbo" or (schema == "tbbo" and kind != OPTION):
            bid, ask = int(r["bid_px_00"]), int(r["ask_px_00"])
            bbo = (None if bid == UNDEF_PRICE else bid, None if ask == UNDEF_PRICE else ask,
                   int(r["bid_sz_00"]), int(r["ask_sz_00"]))  # fmt: skip
        if kind == OPTION:
            return option_print(source, pub, symbol, underlying, *common, *bbo)
        return equity_print(source, pub, symbol, *common, *bbo)


def _resolve(array: Any, normaliser: RecordNormaliser) -> _Targets:
    """The chunk's `_Targets`, resolving each (publisher, instrument, day) once."""
    targets, index, special = resolve_rows(array, normaliser.symbology)
    option = np.array([t is not None and t[1] == OPTION for t in targets], bool)
    return _Targets(targets, index, option[index], special)


def _ints(values: Any) -> pa.Array:
    return pa.array(np.asarray(values, np.int64))


def _prices(values: Any) -> pa.Array:
    """Prices with Databento's undefined one as NULL."""
    prices = np.asarray(values, np.int64)
    return pa.array(prices, mask=prices == UNDEF_PRICE)
