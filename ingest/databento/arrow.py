"""DBN files -> raw Arrow tables (`schemas.raw_arrow`), prints and quotes built column-wise.

A trade file (`trades`, `tbbo`, `tcbbo`) or a top-of-book change file (`cmbp-1`, `mbp-1`)
is decoded with `DBNStore.to_ndarray`; the rows the record path would take as they are
become print or quote columns without per-row Python objects (who each row is about is
resolved once per publisher, instrument and day). Every other row (a bad one, a trade
among quotes, a venue quote of an option) goes through `RecordNormaliser` itself, and a
row behind what the file already released becomes the `out_of_order` quarantine
`ingest.merge` makes of it, so the events are those of the record path
(`ingest.databento.files`, `ingest.databento.bulk`). Other files take the record path
whole. Tables come out per chunk in file order; `schemas.arrow_order` puts them in
canonical order.
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
from ingest.databento.builders import equity_print, equity_quote, option_print, option_quote
from ingest.databento.bulk import PrintTarget, print_problems, record_path_events, resolve_rows
from ingest.databento.files import iter_file_events
from ingest.databento.parsing import (
    MAX_TIMESTAMP,
    OPRA_CONSOLIDATED_PUBLISHER,
    RecordNormaliser,
)
from ingest.databento.symbology import OPTION
from ingest.merge import _late
from schemas.derived_tables import TIMESTAMP
from schemas.events import (
    SCHEMA_VERSION,
    UNDEF_PRICE,
    EquityPrint,
    EquityQuote,
    Event,
    OptionPrint,
    OptionQuote,
    Quarantined,
)
from schemas.raw_arrow import RAW_SCHEMAS

TablesByType = dict[type[Event], list[pa.Table]]

PRINT_FILES = frozenset({"trades", "tbbo", "tcbbo"})
QUOTE_FILES = frozenset({"cmbp-1", "mbp-1"})  # quotes, trades among them
COLUMN_SCHEMAS = PRINT_FILES | QUOTE_FILES
CONSOLIDATED_FILES = frozenset({"tcbbo", "cmbp-1"})  # the BBO on a trade is the NBBO
VENUE_BBO_FILES = frozenset({"tbbo", "mbp-1"})  # the BBO is the trading venue's own

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


def column_file_tables(
    store: DBNStore,
    normaliser: RecordNormaliser,
    *,
    keep_prints: bool = True,
    chunk_records: int = 1 << 20,
) -> Iterator[TablesByType]:
    """A whole file of one of `COLUMN_SCHEMAS`, chunk by chunk in file order (prints left out
    unless `keep_prints`)."""
    schema = str(store.schema)
    if schema not in COLUMN_SCHEMAS:
        raise ValueError(f"expected a file of {sorted(COLUMN_SCHEMAS)}, got {schema!r}")
    normaliser.add_metadata(store.metadata)
    chunks = iter(store.to_ndarray(count=chunk_records))
    file = _FileOrder(normaliser.source, schema, keep_prints)
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
            yield _chunk_tables(array, normaliser, store.metadata.version, file)


@dataclass(slots=True)
class _FileOrder:
    """One file being read: what it is, the newest receive time it released (`ingest.merge`'s
    order check) and the receive time of its last event (a broken file's quarantine time)."""

    source: str
    schema: str
    keep_prints: bool
    newest: int = -1
    last_ts_recv: int = 0


def _chunk_tables(
    array: Any, normaliser: RecordNormaliser, version: int, file: _FileOrder
) -> TablesByType:
    ts_recv = array["ts_recv"].astype(np.int64)
    targets = _resolve(array, normaliser, file.schema)
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
        for event in record_path_events(array[row].tobytes(), version, normaliser):
            slow.append(_late(event, newest, file.source) if event.ts_recv < newest else event)
            newest = max(newest, event.ts_recv)
            file.last_ts_recv = event.ts_recv
        contributes[row] = newest
    newest_before = np.maximum.accumulate(np.r_[file.newest, contributes[:-1]])
    plain = ~special
    late = plain & (ts_recv < newest_before)
    for row in np.flatnonzero(late).tolist():
        event = targets.struct(array, row, normaliser.source)
        slow.append(_late(event, int(newest_before[row]), file.source))
    keep = plain & ~late
    file.newest = max(file.newest, int(contributes.max()))
    last_plain = int(np.flatnonzero(plain)[-1]) if plain.any() else -1
    if last_plain >= 0 and (not special_rows or last_plain > special_rows[-1]):
        file.last_ts_recv = int(ts_recv[last_plain])
    _count(normaliser, targets, len(array) - len(special_rows), plain)
    normaliser.saw_ts_recv(int(array["ts_recv"][-1]))
    if not file.keep_prints:
        slow = [event for event in slow if not isinstance(event, _PRINTS)]
    tables = events_tables(slow)
    for event_type, rows in targets.kinds(keep):
        if rows.any() and (file.keep_prints or event_type not in _PRINTS):
            table = targets.table(event_type, array, rows, normaliser.source)
            tables.setdefault(event_type, []).append(table)
    return tables


def _count(normaliser: RecordNormaliser, targets: _Targets, records: int, plain: Any) -> None:
    """The record path's counters for the rows built here."""
    counters = normaliser.counters
    counters["records"] += records
    for event_type, rows in targets.kinds(plain):
        built = int(np.count_nonzero(rows))
        if built:
            counters[event_type.__name__] += built
            if event_type is OptionPrint and targets.schema in VENUE_BBO_FILES:
                counters["venue_bbo_dropped"] += built


@dataclass(frozen=True, slots=True)
class _Targets:
    """Who a chunk's rows are about: per (publisher, instrument, day) its publisher, kind,
    symbol and underlying (`ingest.databento.bulk.PrintTarget`, None where the record path
    decides), per row its index into those, whether it is an option, and whether the record
    path takes it."""

    schema: str
    targets: list[PrintTarget | None]
    index: Any
    is_option: Any
    is_trade: Any
    special: Any

    def kinds(self, rows: Any) -> list[tuple[type[Event], Any]]:
        """`rows` split into the event types they become."""
        option, trade = self.is_option, self.is_trade
        return [
            (OptionPrint, rows & option & trade),
            (EquityPrint, rows & ~option & trade),
            (OptionQuote, rows & option & ~trade),
            (EquityQuote, rows & ~option & ~trade),
        ]

    def _column(self, values: list[Any], arrow_type: pa.DataType, rows: Any) -> pa.Array:
        return pc.take(pa.array(values, arrow_type), pa.array(self.index[rows]))

    def table(self, event_type: type[Event], array: Any, rows: Any, source: str) -> pa.Table:
        """The table of `rows` (all plain, all of `event_type`)."""
        a = array[rows]
        n = len(a)
        names = a.dtype.names or ()
        null = pa.nulls(n, pa.int64())
        values: dict[str, pa.Array] = {
            "ts_recv": _ints(a["ts_recv"]).view(TIMESTAMP),
            "schema_version": pa.repeat(pa.scalar(SCHEMA_VERSION, pa.int64()), n),
            "ts_event": _ints(a["ts_event"]).view(TIMESTAMP),
            "publisher_id": _ints(a["publisher_id"]),
            "instrument_id": _ints(a["instrument_id"]),
            "source": pa.repeat(pa.scalar(source, pa.string()), n),
            "symbol": self._column([t[2] if t else "" for t in self.targets], pa.string(), rows),
            "sequence": _ints(a["sequence"]) if "sequence" in names else _ints(np.zeros(n)),
        }
        if self._with_bbo(event_type):
            values["bid_px"] = _prices(a["bid_px_00"])
            values["ask_px"] = _prices(a["ask_px_00"])
            values["bid_sz"] = _ints(a["bid_sz_00"])
            values["ask_sz"] = _ints(a["ask_sz_00"])
        else:
            values["bid_px"] = values["ask_px"] = values["bid_sz"] = values["ask_sz"] = null
        if event_type in _PRINTS:
            values["price"] = _ints(a["price"])
            values["size"] = _ints(a["size"])
            values["side"] = pa.array(a["side"].astype("U1"), pa.string())
            values["flags"] = _ints(a["flags"])
        if event_type is OptionPrint or event_type is OptionQuote:
            underlyings = [t[3] if t else "" for t in self.targets]
            values["underlying"] = self._column(underlyings, pa.string(), rows)
            values["coarse"] = values["sampled"] = pa.repeat(pa.scalar(False), n)
        if event_type is OptionQuote:
            values["bid_pb"] = _publishers(a, "bid_pb_00")
            values["ask_pb"] = _publishers(a, "ask_pb_00")
        if event_type is EquityPrint or event_type is EquityQuote:
            pubs = [t[0] if t else None for t in self.targets]
            values["venue"] = self._column([p.venue if p else "" for p in pubs], pa.string(), rows)
            off = [bool(p and p.off_exchange) for p in pubs]
            values["off_exchange"] = self._column(off, pa.bool_(), rows)
        table_schema = RAW_SCHEMAS[event_type]
        return pa.Table.from_arrays([values[c] for c in table_schema.names], schema=table_schema)

    def _with_bbo(self, event_type: type[Event]) -> bool:
        """Whether events of `event_type` carry the record's BBO: quotes do; prints carry a
        consolidated one (`tcbbo`, `cmbp-1`), and a venue's (`tbbo`, `mbp-1`) on equities."""
        if event_type is OptionQuote or event_type is EquityQuote:
            return True
        if self.schema in CONSOLIDATED_FILES:
            return True
        return self.schema in VENUE_BBO_FILES and event_type is EquityPrint

    def struct(self, array: Any, row: int, source: str) -> Event:
        """One plain row as its event (a row out of order keeps its event as evidence)."""
        target = self.targets[int(self.index[row])]
        assert target is not None  # noqa: S101  (plain rows are resolved)
        pub, _, symbol, underlying = target
        option, trade = bool(self.is_option[row]), bool(self.is_trade[row])
        event_type = {
            (True, True): OptionPrint,
            (False, True): EquityPrint,
            (True, False): OptionQuote,
            (False, False): EquityQuote,
        }[option, trade]
        r = array[row]
        names = array.dtype.names or ()
        head = (int(r["ts_recv"]), int(r["ts_event"]), int(r["instrument_id"]),
                int(r["sequence"]) if "sequence" in names else 0)  # fmt: skip
        bbo: tuple[Any, ...] = (None, None, None, None)
        if self._with_bbo(event_type):
            bid, ask = int(r["bid_px_00"]), int(r["ask_px_00"])
            bbo = (None if bid == UNDEF_PRICE else bid, None if ask == UNDEF_PRICE else ask,
                   int(r["bid_sz_00"]), int(r["ask_sz_00"]))  # fmt: skip
        if event_type is OptionQuote:
            pbs = [(int(r[f]) or None) if f in names else None for f in ("bid_pb_00", "ask_pb_00")]
            return option_quote(source, pub, symbol, underlying, *head, *bbo, *pbs, False)
        if event_type is EquityQuote:
            return equity_quote(source, pub, symbol, *head, *bbo)
        trade_fields = (int(r["price"]), int(r["size"]), r["side"].decode(), int(r["flags"]))
        if event_type is OptionPrint:
            return option_print(source, pub, symbol, underlying, *head, *trade_fields, *bbo)
        return equity_print(source, pub, symbol, *head, *trade_fields, *bbo)


def _resolve(array: Any, normaliser: RecordNormaliser, schema: str) -> _Targets:
    """The chunk's `_Targets`, resolving each (publisher, instrument, day) once."""
    targets, index, special = resolve_rows(array, normaliser.symbology)
    option = np.array([t is not None and t[1] == OPTION for t in targets], bool)[index]
    if schema in QUOTE_FILES:
        trade = array["action"] == b"T"
        problems = np.where(trade, print_problems(array), quote_problems(array, option, schema))
    else:
        trade = np.ones(len(array), bool)
        problems = print_problems(array)
    return _Targets(schema, targets, index, option, trade, special | problems)


def quote_problems(array: Any, option: Any, schema: str) -> Any:
    """The quote rows the record path takes for what they say: venue quotes of options, and
    quotes it quarantines (`parsing.quote_problem`, an undefined event time)."""
    special = array["ts_event"] > np.uint64(MAX_TIMESTAMP)  # undefined, or beyond int64
    if schema in VENUE_BBO_FILES:
        special |= option & (array["publisher_id"] != OPRA_CONSOLIDATED_PUBLISHER)
    bid, ask = array["bid_px_00"], array["ask_px_00"]
    no_bid_px, no_ask_px = bid == UNDEF_PRICE, ask == UNDEF_PRICE
    special |= (~no_bid_px & (bid < 0)) | (~no_ask_px & (ask < 0))
    no_bid = no_bid_px | ((bid == 0) & (array["bid_sz_00"] == 0))
    no_ask = no_ask_px | ((ask == 0) & (array["ask_sz_00"] == 0))
    special |= no_bid & no_ask
    special |= ~no_bid_px & ~no_ask_px & (ask > 0) & (bid > ask)
    return special


def _ints(values: Any) -> pa.Array:
    return pa.array(np.asarray(values, np.int64))


def _prices(values: Any) -> pa.Array:
    """Prices with Databento's undefined one as NULL."""
    prices = np.asarray(values, np.int64)
    return pa.array(prices, mask=prices == UNDEF_PRICE)


def _publishers(array: Any, name: str) -> pa.Array:
    """A consolidated quote's publisher of each side (0, none named, as NULL)."""
    if name not in (array.dtype.names or ()):
        return pa.nulls(len(array), pa.int64())
    values = np.asarray(array[name], np.int64)
    return pa.array(values, mask=values == 0)
