"""The column path for CME files: GLBX trades and top-of-book files decoded in bulk.

A GLBX `trades`, `tbbo`, `mbp-1`, `bbo-1s` or `bbo-1m` file is decoded with
`DBNStore.to_ndarray`; each row the record path would take as it is becomes its `CmeTrade`
or `CmeQuote` through the same builders (`ingest.databento.cme`), who it is about resolved
once per instrument and day, and every other row (a record without a usable definition, an
undefined or negative price, an empty or crossed book, an undefined event time) goes
through `RecordNormaliser` itself at its place, so the events and counters are exactly
those of `iter_file_events` (`ingest.databento.bulk` does the same for option and equity
trade files).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from databento import DBNStore

from ingest.databento.arrow import quote_problems
from ingest.databento.bulk import (
    _with_record_path_rows,
    column_batches,
    column_readable,
    print_problems,
    resolve_rows,
)
from ingest.databento.cme import cme_quote, cme_trade
from ingest.databento.files import iter_file_events, survey_dbn
from ingest.databento.parsing import RecordNormaliser
from ingest.databento.symbology import CME_DATASET, CME_KINDS, Symbology, Unresolved
from ingest.merge import CanonicalBatches, merge_canonical
from schemas.events import UNDEF_PRICE, Event, MarketEvent

CME_COLUMN_SCHEMAS = frozenset({"trades", "tbbo", "mbp-1", "bbo-1s", "bbo-1m"})
_SAMPLED = frozenset({"bbo-1s", "bbo-1m"})

CmeTarget = tuple[Any, str]  # publisher, symbol


def cme_file_events(
    paths: Iterable[str | Path],
    *,
    normaliser: RecordNormaliser | None = None,
    chunk_records: int = 131_072,
) -> Iterator[Event]:
    """CME files as events in canonical order: the `definition` files first, whole trade and
    top-of-book files column-wise, the others (MBP-10 with `emit_books`, statistics, a file
    cut short) by the record path, the same events as `iter_file_events` of the same files
    except that an event repeated across files (`trades` among `mbp-1`'s or `tbbo`'s,
    `bbo-1s` samples among `bbo-1m`'s) is kept once, as the ingest service keeps it
    (`schemas.ordering.admit`); each repeat dropped is counted as `repeated_event`."""
    normaliser = normaliser or RecordNormaliser()
    by_record: list[Path] = []
    by_column: list[tuple[Path, DBNStore]] = []
    for path in map(Path, paths):
        store = _column_store(path)
        if store is None:
            by_record.append(path)
        else:
            by_column.append((path, store))
    # The record path reads definition files first, and takes every file's metadata now.
    streams: list[Iterable[Event]] = [iter_file_events(by_record, normaliser=normaliser)]
    for _, store in by_column:
        normaliser.add_metadata(store.metadata)
        batches = column_batches(store, str(store.schema), normaliser, chunk_records, cme_chunk)
        streams.append(_in_order(batches, normaliser.source))
    return _once(merge_canonical(streams), normaliser)


def _column_store(path: Path) -> DBNStore | None:
    """The file opened for the column path when it is a whole CME trade or top-of-book file."""
    survey = survey_dbn(path)
    if survey is None or not survey.complete:
        return None  # the record path says what is wrong, where
    store = DBNStore.from_file(path)
    schema = str(store.schema) if store.schema is not None else ""
    if str(store.metadata.dataset) != CME_DATASET or schema not in CME_COLUMN_SCHEMAS:
        return None
    if not column_readable(store):
        return None
    return store


def _once(events: Iterable[Event], normaliser: RecordNormaliser) -> Iterator[Event]:
    """`events` (canonical order) without repeated market events. The canonical key ends
    with the event's bytes, so a repeat comes right after its original: comparing with the
    previous event drops what `schemas.ordering.admit` would, without encoding every event
    again (quarantines, like every event `admit` does not order, are all kept)."""
    previous: Event | None = None
    for event in events:
        if event == previous and isinstance(event, MarketEvent):
            normaliser.counters["repeated_event"] += 1
            continue
        previous = event
        yield event


def _in_order(batches: Iterable[list[Event]], source: str) -> Iterator[Event]:
    ordering = CanonicalBatches(source)
    for batch in batches:
        yield from ordering.feed(batch)
    yield from ordering.flush()


def cme_chunk(array: Any, schema: str, normaliser: RecordNormaliser, version: int) -> list[Event]:
    """One chunk of a CME trade or top-of-book file as events, in file order."""
    n = len(array)
    if n == 0:
        return []
    targets, index, special = resolve_rows(array, normaliser.symbology, _cme_target)
    trade = _trade_rows(array, schema)
    if schema == "trades":
        special |= print_problems(array)
    else:
        not_options = np.zeros(n, bool)  # no venue quotes to tell apart: CME is one venue
        quote = quote_problems(array, not_options, schema)
        special |= np.where(trade, print_problems(array), quote)
    plain = ~special
    built = _events(array[plain], targets, index[plain], trade[plain], schema, normaliser.source)
    n_special = int(special.sum())
    events = (
        _with_record_path_rows(built, array, special, normaliser, version) if n_special else built
    )
    counters = normaliser.counters
    counters["records"] += n - n_special  # the record path counted the special rows
    n_trades = int(np.count_nonzero(trade & plain))
    if n_trades:
        counters["CmeTrade"] += n_trades
        if schema != "trades":
            counters["venue_bbo_dropped"] += n_trades
    if n - n_special - n_trades:
        counters["CmeQuote"] += n - n_special - n_trades
    normaliser.saw_ts_recv(int(array["ts_recv"][-1]))
    return events


def _cme_target(
    symbology: Symbology, publisher_id: int, instrument_id: int, day: int
) -> CmeTarget | None:
    """Who a CME row is about when the record path would take it as it is, else None."""
    instrument = symbology.resolve(publisher_id, instrument_id, day)
    if isinstance(instrument, Unresolved) or instrument[1] not in CME_KINDS:
        return None
    return instrument[0], instrument[2]


def _trade_rows(array: Any, schema: str) -> Any:
    if schema == "trades":
        return np.ones(len(array), bool)
    if schema in _SAMPLED:
        return np.zeros(len(array), bool)
    return array["action"] == b"T"


def _events(
    array: Any, targets: list[Any], index: Any, trade: Any, schema: str, source: str
) -> list[Event]:
    """One event per plain row."""
    n = len(array)
    ts_recv = array["ts_recv"].tolist()
    ts_event = array["ts_event"].tolist()
    iids = array["instrument_id"].tolist()
    sequence = array["sequence"].tolist()
    trades = trade.tolist()
    if schema == "trades":
        bids = asks = bid_szs = ask_szs = [None] * n
    else:
        bid_col, ask_col = array["bid_px_00"], array["ask_px_00"]
        bids = np.where(bid_col == UNDEF_PRICE, None, bid_col).tolist()
        asks = np.where(ask_col == UNDEF_PRICE, None, ask_col).tolist()
        bid_szs = array["bid_sz_00"].tolist()
        ask_szs = array["ask_sz_00"].tolist()
    if schema in _SAMPLED:
        prices = sizes = sides = flags = [None] * n
    else:
        prices = array["price"].tolist()
        sizes = array["size"].tolist()
        sides = array["side"].astype("U1").tolist()
        flags = array["flags"].tolist()
    sampled = schema in _SAMPLED
    out: list[Event] = []
    append = out.append
    rows = zip(
        index.tolist(), trades, ts_recv, ts_event, iids, sequence, prices, sizes, sides, flags,
        bids, asks, bid_szs, ask_szs, strict=True,
    )  # fmt: skip
    for at, is_trade, tr, te, iid, seq, px, sz, side, fl, bp, ap, bs, as_ in rows:
        pub, symbol = targets[at]
        if is_trade:
            append(cme_trade(source, pub, symbol, tr, te, iid, seq, px, sz, side, fl))
        else:
            append(cme_quote(source, pub, symbol, tr, te, iid, seq, bp, ap, bs, as_, sampled))
    return out
