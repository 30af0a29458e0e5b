"""The column path: one trade file (`trades`, `tbbo`, `tcbbo`) decoded in bulk.

`DBNStore.to_ndarray` decodes the file into column chunks; each row the record path would
accept as it is becomes its print through the same builders (`ingest.databento.builders`),
and every other row (unmapped, undefined price, zero size, unsupported class, CME...) goes
through `RecordNormaliser` itself, so the events and counters are exactly those of
`iter_file_events`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import numpy as np
from databento import DBNStore

from ingest.databento.builders import equity_print, option_print
from ingest.databento.files import DbnReadError, decoded, iter_file_events
from ingest.databento.mappings import NS_PER_DAY
from ingest.databento.parsing import MAX_TIMESTAMP, RecordNormaliser
from ingest.databento.symbology import (
    CME_KINDS,
    OPTION,
    Publisher,
    Symbology,
    Unresolved,
    underlying_of,
)
from ingest.merge import CanonicalBatches
from schemas.events import UNDEF_PRICE, UNDEF_TIMESTAMP, Event, Quarantined

BULK_SCHEMAS = frozenset({"trades", "tbbo", "tcbbo"})
_SIDES = np.array([b"A", b"B", b"N"], dtype="S1")  # dbn.Side: ask, bid, none

PrintTarget = tuple[Publisher, str, str, str]  # publisher, kind, symbol, underlying


def bulk_file_events(
    path: str | Path,
    *,
    normaliser: RecordNormaliser | None = None,
    chunk_records: int = 131_072,
) -> Iterator[Event]:
    """`bulk_file_batches` one event at a time."""
    for batch in bulk_file_batches(path, normaliser=normaliser, chunk_records=chunk_records):
        yield from batch


def bulk_file_batches(
    path: str | Path,
    *,
    normaliser: RecordNormaliser | None = None,
    chunk_records: int = 131_072,
) -> Iterator[list[Event]]:
    """The fast replay path for one trade file: event batches in canonical order.

    Other schemas and unreadable files go through `iter_file_events`.
    """
    normaliser = normaliser or RecordNormaliser()
    try:
        store = DBNStore.from_file(path)
        schema = str(store.schema) if store.schema is not None else ""
        if not column_readable(store):
            schema = ""
    except Exception:  # noqa: BLE001  (the record path reports what is wrong with the file)
        schema = ""
    if schema not in BULK_SCHEMAS:
        batch: list[Event] = []
        for event in iter_file_events(path, normaliser=normaliser):
            batch.append(event)
            if len(batch) >= chunk_records:
                yield batch
                batch = []
        yield batch
        return
    normaliser.add_metadata(store.metadata)
    ordering = CanonicalBatches(normaliser.source)
    for batch in column_batches(store, schema, normaliser, chunk_records, _bulk_chunk):
        yield ordering.feed(batch)
    yield ordering.flush()


ChunkBuilder = Callable[[Any, str, RecordNormaliser, int], list[Event]]


def column_batches(
    store: DBNStore,
    schema: str,
    normaliser: RecordNormaliser,
    chunk_records: int,
    build: ChunkBuilder,
) -> Iterator[list[Event]]:
    """A file's `to_ndarray` chunks as `build` makes events of them (array, schema,
    normaliser, DBN version), in file order; a file that breaks ends in a quarantine."""
    chunks = iter(store.to_ndarray(count=chunk_records))
    last_ts_recv = 0
    while True:
        try:
            array = next(chunks)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001  (a broken file ends in a quarantine)
            normaliser.counters["quarantined:malformed_dbn"] += 1
            yield [
                Quarantined(
                    ts_recv=last_ts_recv,
                    source=normaliser.source,
                    reason="malformed_dbn",
                    detail=f"{store}: {type(exc).__name__}: {exc}",
                )
            ]
            return
        # Building ~10^5 tracked objects in a row makes the cyclic GC rescan them again and
        # again; the batch holds no cycles, so collection can wait until it is built.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            batch = build(array, schema, normaliser, store.metadata.version)
        finally:
            if gc_was_enabled:
                gc.enable()
        if batch:
            last_ts_recv = batch[-1].ts_recv
        yield batch


def _bulk_chunk(array: Any, schema: str, normaliser: RecordNormaliser, version: int) -> list[Event]:
    n = len(array)
    if n == 0:
        return []
    source = normaliser.source
    targets, to_record_path = _row_targets(array, normaliser.symbology)
    n_special = int(to_record_path.sum())
    if n_special:
        plain = ~to_record_path
        events, n_option, n_equity = _prints(array[plain], targets[plain], schema, source)
        events = _with_record_path_rows(events, array, to_record_path, normaliser, version)
    else:
        events, n_option, n_equity = _prints(array, targets, schema, source)
    counters = normaliser.counters
    counters["records"] += n - n_special  # the record path counted the special rows
    if n_option:
        counters["OptionPrint"] += n_option
        if schema == "tbbo":
            counters["venue_bbo_dropped"] += n_option
    if n_equity:
        counters["EquityPrint"] += n_equity
    normaliser.saw_ts_recv(int(array["ts_recv"][-1]))
    return events


def _row_targets(array: Any, symbology: Symbology) -> tuple[np.ndarray, np.ndarray]:
    """Each row's print target, and which rows the record path must take instead (it
    quarantines them or decides otherwise)."""
    targets, index, special = resolve_rows(array, symbology)
    resolved = np.empty(len(targets), dtype=object)
    for at, target in enumerate(targets):
        resolved[at] = target
    return resolved[index], special | print_problems(array)


def print_problems(array: Any) -> np.ndarray:
    """The trade rows the record path quarantines or looks closer at for what they say."""
    price = array["price"]
    special = (price == UNDEF_PRICE) | (price < 0) | (array["size"] == 0)
    special |= array["ts_event"] > np.uint64(MAX_TIMESTAMP)  # undefined, or beyond int64
    special |= ~np.isin(array["side"], _SIDES)  # the record path refuses an unknown side
    # tcbbo arrays use the CBBO layout, where the (always trade) action is reserved.
    if "action" in (array.dtype.names or ()):
        special |= array["action"] != b"T"
    return special


def resolve_rows(
    array: Any,
    symbology: Symbology,
    target: Callable[[Symbology, int, int, int], Any] | None = None,
) -> tuple[list[Any], np.ndarray, np.ndarray]:
    """Who a chunk's rows are about, resolved once per (publisher, instrument, day) by
    `target` (default: a print's `PrintTarget`): those targets (None where the record path
    decides), each row's index into them, and the rows the record path must take for who
    they are about (undefined receive time, unresolved)."""
    target = target or _print_target
    ts_recv = array["ts_recv"]
    special = ts_recv == UNDEF_TIMESTAMP
    # Resolve each (publisher, instrument, day) once per chunk: packed into one uint64
    # (16 + 32 + 16 bits; days since 1970 stay below 2**16 until 2149).
    days = ts_recv // NS_PER_DAY
    overflow = days >= 1 << 16  # undefined receive times: the record path quarantines them
    if overflow.any():
        special |= overflow
        days = np.minimum(days, (1 << 16) - 1)
    keys = (
        (array["publisher_id"].astype(np.uint64) << np.uint64(48))
        | (array["instrument_id"].astype(np.uint64) << np.uint64(16))
        | days.astype(np.uint64)
    )
    unique_keys, index = np.unique(keys, return_inverse=True)
    index = index.reshape(-1)
    targets = [
        target(symbology, key >> 48, (key >> 16) & 0xFFFF_FFFF, key & 0xFFFF)
        for key in unique_keys.tolist()
    ]
    unresolved = np.array([target is None for target in targets], dtype=bool)
    return targets, index, special | unresolved[index]


def _print_target(
    symbology: Symbology, publisher_id: int, instrument_id: int, day: int
) -> PrintTarget | None:
    """Who a print is about when the record path would take it as it is; None when the
    record path would quarantine it or look closer (the row then goes through it)."""
    instrument = symbology.resolve(publisher_id, instrument_id, day)
    if isinstance(instrument, Unresolved):
        return None
    pub, kind, symbol, contract = instrument
    if kind in CME_KINDS:
        return None  # CME events are built by the record path alone
    if kind != OPTION:
        return pub, kind, symbol, ""
    underlying = underlying_of(symbol, contract)
    if underlying is None:
        return None
    return pub, kind, symbol, underlying


def _prints(
    array: Any, targets: np.ndarray, schema: str, source: str
) -> tuple[list[Event], int, int]:
    """One print per row (rows the record path would take as they are), and how many are
    option and equity prints."""
    n = len(array)
    names = array.dtype.names or ()
    ts_recv = array["ts_recv"].tolist()
    ts_event = array["ts_event"].tolist()
    iids = array["instrument_id"].tolist()
    prices = array["price"].tolist()
    sizes = array["size"].tolist()
    sides = array["side"].astype("U1").tolist()
    flags = array["flags"].tolist()
    sequence = array["sequence"].tolist() if "sequence" in names else [0] * n
    if schema != "trades":
        bid_col, ask_col = array["bid_px_00"], array["ask_px_00"]
        bids = np.where(bid_col == UNDEF_PRICE, None, bid_col).tolist()
        asks = np.where(ask_col == UNDEF_PRICE, None, ask_col).tolist()
        bid_szs = array["bid_sz_00"].tolist()
        ask_szs = array["ask_sz_00"].tolist()
    else:
        bids = asks = bid_szs = ask_szs = [None] * n
    # The venue's BBO (tbbo) is never attached to option prints (see parsing's docstring).
    venue_bbo = schema == "tbbo"
    out: list[Event] = []
    append = out.append
    n_option = n_equity = 0
    rows = zip(
        targets.tolist(), ts_recv, ts_event, iids, sequence, prices, sizes, sides, flags, bids,
        asks, bid_szs, ask_szs, strict=True,
    )  # fmt: skip
    for target, tr, te, iid, seq, px, sz, side, fl, bp, ap, bs, as_ in rows:
        pub, kind, symbol, underlying = target
        if kind == OPTION:
            n_option += 1
            if venue_bbo:
                bp = ap = bs = as_ = None
            append(
                option_print(
                    source, pub, symbol, underlying, tr, te, iid, seq, px, sz, side, fl,
                    bp, ap, bs, as_,
                )
            )  # fmt: skip
        else:
            n_equity += 1
            append(
                equity_print(
                    source, pub, symbol, tr, te, iid, seq, px, sz, side, fl, bp, ap, bs, as_
                )
            )
    return out, n_option, n_equity


def _with_record_path_rows(
    prints: list[Event],
    array: Any,
    to_record_path: np.ndarray,
    normaliser: RecordNormaliser,
    version: int,
) -> list[Event]:
    """`prints` (one per plain row) with the record path's events of the other rows spliced
    in at their places."""
    ts_recv = array["ts_recv"]
    out: list[Event] = []
    start = 0
    for done, row in enumerate(np.flatnonzero(to_record_path).tolist()):
        stop = row - done  # the plain rows before this one
        out.extend(prints[start:stop])
        start = stop
        if row:
            normaliser.saw_ts_recv(int(ts_recv[row - 1]))
        out.extend(record_path_events(array[row].tobytes(), version, normaliser))
    out.extend(prints[start:])
    return out


def column_readable(store: DBNStore) -> bool:
    """Whether the column paths may read the file: its rows for the record path are decoded
    one by one at the file's DBN version, which the DBN library takes only from 1 to its own
    (it reads a whole file of another version byte by its own rules: the record path's)."""
    return 1 <= int(store.metadata.version) <= dbn.DBN_VERSION


def record_path_events(raw: bytes, version: int, normaliser: RecordNormaliser) -> list[Event]:
    """The record path's events of one column row; a row that is not one whole record (its
    length byte disagrees with its schema's record size) is quarantined `malformed_dbn`."""
    record = _record_of(raw, version)
    if record is None:
        detail = f"a row whose length byte ({raw[0]}) is not its schema's record size"
        return [normaliser.quarantine(raw, "malformed_dbn", detail)]
    events: list[Event] = normaliser(record)
    return events


def _record_of(raw: bytes, version: int) -> Any:
    """The record in one row's bytes, or None when they are not one whole record."""
    decoder = dbn.DBNDecoder(has_metadata=False, input_version=version)
    decoder.write(raw)
    try:
        records = decoded(decoder, "a row")
    except DbnReadError:
        return None
    return records[0] if len(records) == 1 else None
