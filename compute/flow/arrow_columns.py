"""The kernel's input columns from raw Arrow tables (`schemas.raw_arrow`), without event
objects: the same rows `compute.flow.columnar.columns_from_events` builds from the events in
canonical order.

Rows are put in canonical order with one lexsort (`schemas.arrow_order`). New instrument
ids, contract symbols and names are registered in the order the event path meets them:
each distinct registration (a contract's symbol and underlying, an equity's name, the OCC
terms of an undefined contract) runs once, at the first row that asks for it, in row order.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import overload

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from compute.calendar import new_york_date
from compute.flow.columnar import PUBLISHER_LIMIT, ColumnarState, Int64Array
from compute.flow.layout import (
    C_DEFINED,
    I_ASK,
    I_ASK_SZ,
    I_BID,
    I_BID_SZ,
    I_CONTRACT,
    I_EXPIRY,
    I_FLAG,
    I_INSTRUMENT,
    I_KIND,
    I_MULTIPLIER,
    I_NAME,
    I_PRICE,
    I_PUBLISHER,
    I_RIGHT,
    I_SEQUENCE,
    I_SIZE,
    I_STRIKE,
    I_SYMBOL,
    I_TS_EVENT,
    I_TS_RECV,
    I_WIDTH,
    K_CONTRACT,
    K_EQUITY_PRINT,
    K_EQUITY_QUOTE,
    K_GAP,
    K_HEARTBEAT,
    K_NOT_RAW,
    K_OPEN_INTEREST,
    K_OPTION_PRINT,
    K_OPTION_QUOTE,
    K_SKIP,
    NULL,
    RIGHT_CALL,
    RIGHT_PUT,
)
from schemas.arrow_order import canonical_order
from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)
from schemas.occ import parse_occ
from schemas.ordering import _RANKS
from schemas.raw_arrow import events_of

_OPTION_ROWS = (OptionPrint, OptionQuote, OpenInterest)
_CONTRACT_ROWS = (*_OPTION_ROWS, OptionContract)
_MARKET_ROWS = (*_CONTRACT_ROWS, EquityPrint, EquityQuote)
_KINDS: dict[type[Event], int] = {
    OptionPrint: K_OPTION_PRINT,
    OptionQuote: K_OPTION_QUOTE,
    OpenInterest: K_OPEN_INTEREST,
    OptionContract: K_CONTRACT,
    EquityPrint: K_EQUITY_PRINT,
    EquityQuote: K_EQUITY_QUOTE,
    Heartbeat: K_HEARTBEAT,
    Gap: K_GAP,
    Quarantined: K_SKIP,
}
Terms = tuple[int, int, int, int, int]  # symbol, name, right, strike, expiry


def _ints(table: pa.Table, name: str, null: int = NULL) -> Int64Array:
    column = table.column(name)
    if pa.types.is_timestamp(column.type):
        column = column.cast(pa.int64())
    elif pa.types.is_boolean(column.type):
        column = column.cast(pa.int64())
    return np.asarray(column.fill_null(null).to_numpy(), np.int64)


def _strings(table: pa.Table, name: str, rows: Int64Array) -> pa.Array:
    return table.column(name).combine_chunks().take(pa.array(rows))


@dataclass
class _Part:
    """One table's rows: their positions in the batch and their output rows."""

    event_type: type[Event]
    table: pa.Table
    position: Int64Array
    out: Int64Array = field(init=False)

    def __post_init__(self) -> None:
        self.out = np.zeros((self.table.num_rows, I_WIDTH), np.int64)


@dataclass
class _Registrations:
    """Distinct registrations with the batch position that first asks for each."""

    first: list[Int64Array] = field(default_factory=list)
    calls: list[Callable[[int], None]] = field(default_factory=list)

    def add(self, first: Int64Array, call: Callable[[int], None]) -> None:
        """`call(k)` registers the k-th key, first asked for at position `first[k]`."""
        self.first.append(first)
        self.calls.append(call)

    def run(self) -> None:
        """Every registration, in the order of the positions that first ask for them."""
        if not self.first:
            return
        firsts = np.concatenate(self.first)
        source = np.concatenate([np.full(len(f), i) for i, f in enumerate(self.first)])
        key = np.concatenate([np.arange(len(f)) for f in self.first])
        for at in np.argsort(firsts, kind="stable").tolist():
            self.calls[int(source[at])](int(key[at]))


def _distinct(
    parts: list[tuple[_Part, Int64Array]], columns: tuple[str, ...]
) -> tuple[list[tuple[str, ...]], Int64Array, list[Int64Array]]:
    """The distinct values of `columns` over the given rows of `parts`: the values, the
    batch position first holding each, and each part's rows' index into them."""
    positions = np.concatenate([part.position[rows] for part, rows in parts])
    codes: list[Int64Array] = []
    dictionaries: list[list[str]] = []
    for name in columns:
        values = pa.concat_arrays([_strings(part.table, name, rows) for part, rows in parts])
        encoded = values.dictionary_encode()
        codes.append(np.asarray(encoded.indices.to_numpy(zero_copy_only=False), np.int64))
        dictionaries.append(encoded.dictionary.to_pylist())
    combined = codes[0]
    for code, dictionary in zip(codes[1:], dictionaries[1:], strict=True):
        combined = combined * len(dictionary) + code
    unique, first_at, inverse = np.unique(combined, return_index=True, return_inverse=True)
    first_rows = first_at
    values_of = [
        tuple(dictionaries[c][int(code[at])] for c, code in enumerate(codes))
        for at in first_rows.tolist()
    ]
    first = np.full(len(unique), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, inverse.reshape(-1), positions)
    split = np.cumsum([len(rows) for _, rows in parts])[:-1]
    return values_of, first, np.split(inverse.reshape(-1), split)


def columns_from_arrow(state: ColumnarState, tables: Mapping[type[Event], pa.Table]) -> Int64Array:
    """Input columns for raw tables of any types (registering their ids and names), rows in
    canonical order: `columns_from_events` of the same events sorted canonically."""
    return ArrowBatch(state, tables).columns


class ArrowBatch(Sequence[Event]):
    """Raw tables as one batch in canonical order: the kernel's input columns, and the
    batch's events, each built from its row when asked for (the engine's quarantines carry
    the few they name)."""

    def __init__(self, state: ColumnarState, tables: Mapping[type[Event], pa.Table]) -> None:
        self._items = [(t, table) for t, table in tables.items() if table.num_rows]
        for event_type, _ in self._items:
            if event_type not in _RANKS:
                raise TypeError(f"{event_type.__name__} is not a raw event")
        self._which, self._rows = canonical_order(self._items)
        parts: list[_Part] = []
        for index, (event_type, table) in enumerate(self._items):
            position = np.empty(table.num_rows, np.int64)
            taken = self._which == index
            position[self._rows[taken]] = np.flatnonzero(taken)
            parts.append(_Part(event_type, table, position))
        for part in parts:
            _common_columns(part)
        _register_and_name(state, parts)
        self.columns = np.zeros((len(self._which), I_WIDTH), np.int64)
        for part in parts:
            self.columns[part.position] = part.out

    def __len__(self) -> int:
        return len(self._which)

    @overload
    def __getitem__(self, position: int) -> Event: ...

    @overload
    def __getitem__(self, position: slice) -> list[Event]: ...

    def __getitem__(self, position: int | slice) -> Event | list[Event]:
        if isinstance(position, slice):
            return [self[i] for i in range(*position.indices(len(self)))]
        event_type, table = self._items[int(self._which[position])]
        return events_of(event_type, table.slice(int(self._rows[position]), 1))[0]


def _common_columns(part: _Part) -> None:
    t, out = part.table, part.out
    out[:, I_TS_RECV] = _ints(t, "ts_recv")
    # Other systems' raw events (CME, order books) are not the flow engine's: K_NOT_RAW, as
    # `columns_from_events` makes them.
    out[:, I_KIND] = _KINDS.get(part.event_type, K_NOT_RAW)
    if part.event_type not in _MARKET_ROWS:
        return
    publishers = _ints(t, "publisher_id")
    bad = (publishers < 0) | (publishers >= PUBLISHER_LIMIT)
    if bad.any():
        value = int(publishers[np.flatnonzero(bad)[0]])
        raise ValueError(f"publisher_id {value} outside 0..{PUBLISHER_LIMIT - 1}")
    out[:, I_TS_EVENT] = _ints(t, "ts_event")
    out[:, I_PUBLISHER] = publishers
    out[:, I_INSTRUMENT] = _ints(t, "instrument_id")
    if part.event_type is not OptionContract:
        out[:, I_SEQUENCE] = _ints(t, "sequence")
    if part.event_type in (OptionPrint, EquityPrint):
        out[:, I_PRICE] = _ints(t, "price")
        out[:, I_SIZE] = _ints(t, "size")
    if part.event_type in (OptionPrint, OptionQuote, EquityPrint, EquityQuote):
        out[:, I_BID] = _ints(t, "bid_px")
        out[:, I_ASK] = _ints(t, "ask_px")
        with_sizes = part.event_type in (OptionPrint, OptionQuote)
        out[:, I_BID_SZ] = _ints(t, "bid_sz") if with_sizes else NULL
        out[:, I_ASK_SZ] = _ints(t, "ask_sz") if with_sizes else NULL
    if part.event_type is OptionQuote:
        out[:, I_FLAG] = _ints(t, "sampled")
    elif part.event_type is EquityPrint:
        out[:, I_FLAG] = _ints(t, "off_exchange")
    elif part.event_type is OpenInterest:
        out[:, I_PRICE] = _ints(t, "open_interest")
    elif part.event_type is OptionContract:
        out[:, I_RIGHT] = np.where(
            np.asarray(pc.equal(t.column("right"), "C").to_numpy(), bool), RIGHT_CALL, RIGHT_PUT
        )
        out[:, I_STRIKE] = _ints(t, "strike_price")
        out[:, I_MULTIPLIER] = _ints(t, "multiplier")
        expirations = _ints(t, "expiration", 0)
        symbols = t.column("symbol").to_pylist()
        out[:, I_EXPIRY] = [
            _expiry(symbol, expiration)
            for symbol, expiration in zip(symbols, expirations.tolist(), strict=True)
        ]


def _expiry(symbol: str, expiration: int) -> int:
    try:
        return parse_occ(symbol).expiration_date
    except ValueError:
        return new_york_date(expiration) if expiration else 0


def _register_and_name(state: ColumnarState, parts: list[_Part]) -> None:
    """Contract rows, symbols, names and OCC terms, registered in the event path's order."""
    contract_parts = [p for p in parts if p.event_type in _CONTRACT_ROWS]
    if contract_parts:
        _register_instruments(state, contract_parts)
    registrations = _Registrations()
    fallback_parts = [(p, _undefined_rows(state, p)) for p in parts if p.event_type in _OPTION_ROWS]
    fallback_parts = [(p, rows) for p, rows in fallback_parts if len(rows)]
    if fallback_parts:
        keys, first, inverse = _distinct(fallback_parts, ("symbol", "underlying"))
        terms: list[Terms | None] = [None] * len(keys)

        def fallback(k: int) -> None:
            terms[k] = state.fallback_terms(*keys[k])

        registrations.add(first, fallback)
    definitions = [
        (p, np.arange(p.table.num_rows)) for p in parts if p.event_type is OptionContract
    ]
    if definitions:
        defined, defined_first, defined_inverse = _distinct(definitions, ("symbol", "underlying"))
        defined_rows = np.zeros((len(defined), 2), np.int64)

        def define(k: int) -> None:
            symbol, underlying = defined[k]
            defined_rows[k] = (state.symbol_row(symbol), state.name_row(underlying))

        registrations.add(defined_first, define)
    equities = [
        (p, np.arange(p.table.num_rows))
        for p in parts
        if p.event_type in (EquityPrint, EquityQuote)
    ]
    if equities:
        names, names_first, names_inverse = _distinct(equities, ("symbol",))
        name_rows = np.zeros(len(names), np.int64)

        def name(k: int) -> None:
            name_rows[k] = state.name_row(names[k][0])

        registrations.add(names_first, name)
    registrations.run()
    if fallback_parts:
        table = np.array([(-1, 0, 0, 0, 0) if t is None else t for t in terms], np.int64)
        found = np.array([t is not None for t in terms], bool)
        for (part, rows), index in zip(fallback_parts, inverse, strict=True):
            hit = found[index]
            at = rows[hit]
            values = table[index[hit]]
            part.out[at, I_SYMBOL] = values[:, 0]
            part.out[at, I_NAME] = values[:, 1]
            part.out[at, I_RIGHT] = values[:, 2]
            part.out[at, I_STRIKE] = values[:, 3]
            part.out[at, I_EXPIRY] = values[:, 4]
            part.out[at, I_MULTIPLIER] = 100
    if definitions:
        for (part, _), index in zip(definitions, defined_inverse, strict=True):
            part.out[:, I_SYMBOL] = defined_rows[index, 0]
            part.out[:, I_NAME] = defined_rows[index, 1]
    if equities:
        for (part, _), index in zip(equities, names_inverse, strict=True):
            part.out[:, I_NAME] = name_rows[index]


def _register_instruments(state: ColumnarState, parts: list[_Part]) -> None:
    """Each contract row's I_CONTRACT, new instrument ids registered in order of first row."""
    ids = np.concatenate([p.out[:, I_INSTRUMENT] for p in parts])
    positions = np.concatenate([p.position for p in parts])
    unique, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.reshape(-1)
    first = np.full(len(unique), np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, inverse, positions)
    known = state.instruments
    for at in np.argsort(first, kind="stable").tolist():
        state.contract_row(int(unique[at]))
    rows = np.array([known[i] for i in unique.tolist()], np.int64)
    start = 0
    for part in parts:
        n = part.table.num_rows
        part.out[:, I_CONTRACT] = rows[inverse[start : start + n]]
        start += n
        if part.event_type is not OptionContract:
            part.out[:, I_SYMBOL] = -1


def _undefined_rows(state: ColumnarState, part: _Part) -> Int64Array:
    """The rows whose contract the state has no definition of (before this batch)."""
    contracts = part.out[:, I_CONTRACT]
    inside = contracts < state.contracts.shape[0]
    defined = np.zeros(len(contracts), bool)
    defined[inside] = state.contracts[contracts[inside], C_DEFINED] != 0
    return np.flatnonzero(~defined)
