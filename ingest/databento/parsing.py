"""One record handler for every Databento path: DBN records -> flowtape raw events.

`RecordNormaliser` is the single place where a Databento record becomes events. The file
source, the `databento.Historical` path, the `databento.Live` callback and the synthetic
market's live mode all call it, so the same record always gives the same events; the
column path (`ingest.databento.bulk`) hands it every row it does not build itself. Who a
record is about comes from `ingest.databento.symbology`, the events' fields from
`ingest.databento.builders`; this module decides which records become which events.

Decisions (see DOMAIN.md for the facts behind them):

- BBO on option prints: only a *consolidated* BBO is attached to an OptionPrint
  (`tcbbo` and `cmbp-1` trades, whose BBO is the NBBO). OPRA `tbbo`/`mbp-1` trades carry
  the trading venue's own BBO, which is not the NBBO: the print is emitted without a BBO
  and the venue BBO is counted (`venue_bbo_dropped`). OPRA `mbp-1` quote updates are venue
  BBOs too: skipped and counted unless `emit_venue_quotes=True`, in which case they become
  OptionQuotes whose `publisher_id` (and `bid_pb`/`ask_pb`) is the venue, never the
  consolidated publisher `OPRA.PILLAR.OPRA` (30) that `cmbp-1`/`cbbo-*` quotes carry. A
  consumer looking for the NBBO takes OptionQuotes from publisher 30 only.
- Equity prints carry the venue's BBO when the record has one (`tbbo`, `mbp-1`);
  `off_exchange=True` for FINRA trade-reporting facilities (venues FINN, FINC, FINY) and
  the FINRA ADF (XADF).
- A record whose instrument cannot be resolved (unknown publisher, unmapped instrument,
  missing definition, unsupported instrument class) is quarantined with that reason;
  unmapped instruments are also counted (`unmapped_instrument`).
- A print without a price or event time, an empty or crossed quote, a negative price or a
  zero size is quarantined with a reason. Sampled BBOs (`bbo-*`, `cbbo-*`) are the
  exception for `ts_event`: theirs is the time of the last *trade*, undefined before the
  first one, so such a quote is stamped with its sample time `ts_recv`.
- Open interest arrives once per venue; one OpenInterest is emitted per contract per UTC
  day, and again only when the value changes.
- MBO and MBP-10 records become order-book events (`ingest.databento.books`: one event per
  venue event, its records up to `F_LAST`) when `emit_books=True`, else they are ignored.
- CME Globex (`GLBX.MDP3`) futures and options on futures become `schemas.cme` events:
  definitions `CmeInstrument`, trades (`trades`, and `tbbo`/`mbp-1` action T, whose book is
  not kept: `venue_bbo_dropped`) `CmeTrade` with the aggressor side, `mbp-1` book changes and
  `bbo-1s`/`bbo-1m` samples `CmeQuote`, every statistic `CmeStatistic`, MBP-10 the order-book
  path's `Mbp10Event` (with `emit_books`). A record of an instrument without a definition is
  `missing_definition` (fail closed), of a spread `unsupported_instrument_class`. A definition
  lacking its expiration, multiplier, or (option) strike or underlying is quarantined and
  not used, so its instrument's records quarantine too. A future's price may be negative
  (CL settled at -37.63 on 2020-04-20); an option's may not.
- Records that are not market data for flowtape (OHLCV, status, imbalance, statistics other
  than open interest outside CME, equity definitions and other venues' futures; MBO and
  MBP-10 without `emit_books`) are counted under `ignored:<record type>`; they are a
  subscription choice, not bad input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from functools import partial
from typing import Any

import databento_dbn as dbn

from ingest.databento.books import BOOK_RECORDS, BookEvents
from ingest.databento.builders import (
    equity_print,
    equity_quote,
    open_interest,
    option_contract,
    option_print,
    option_quote,
    undef_price,
)
from ingest.databento.cme import cme_instrument, cme_quote, cme_statistic, cme_trade
from ingest.databento.mappings import NS_PER_DAY
from ingest.databento.symbology import (
    CME_DATASET,
    CME_KINDS,
    FUTURE,
    FUTURE_OPTION,
    OPTION,
    UNMAPPED_INSTRUMENT,
    ContractInfo,
    Instrument,
    Publisher,
    Symbology,
    Unresolved,
    contract_info,
    publisher_info,
    underlying_of,
)
from schemas.events import UNDEF_PRICE, UNDEF_TIMESTAMP, Event, Heartbeat, Quarantined

OPRA_CONSOLIDATED_PUBLISHER = 30  # OPRA.PILLAR.OPRA
# The latest time an event may carry: DBN times are u64, flowtape's (DateTime64, Arrow) int64.
MAX_TIMESTAMP = 2**63 - 1
_UNDEF_QTY = 2**63 - 1  # StatMsg.quantity's undefined value

# The record types that carry a receive time (system, error and mapping messages do not).
_RECEIVED_RECORDS = (
    dbn.TradeMsg,
    dbn.MBP1Msg,
    dbn.CMBP1Msg,
    dbn.CBBOMsg,
    dbn.BBOMsg,
    dbn.InstrumentDefMsg,
    dbn.StatMsg,
    dbn.MBOMsg,
    dbn.MBP10Msg,
)

RecordCallback = Callable[[Any], None]
Bbo = tuple[int | None, int | None, int, int]  # bid_px, ask_px, bid_sz, ask_sz


class RecordNormaliser:
    """Turns Databento records into flowtape raw events; one instance per stream/session.

    Call it with a record (`normaliser(record) -> list[Event]`); feed it the stream's
    metadata first (`add_metadata`). It keeps the symbology, the definitions seen and the
    open-interest dedup state, and counts everything in `counters`. It never raises on bad
    input: that comes back as `Quarantined` events.
    """

    def __init__(
        self,
        source: str = "databento",
        *,
        emit_venue_quotes: bool = False,
        emit_books: bool = False,
    ) -> None:
        self.source = source
        self.emit_venue_quotes = emit_venue_quotes
        self.emit_books = emit_books
        self.symbology = Symbology()
        self.counters: Counter[str] = Counter()
        self.books = self.book_stream()
        self._open_interest: dict[tuple[int, int], int] = {}
        self._last_ts_recv = 0
        self.last_metadata_error = ""
        self._handlers: dict[type, Callable[[Any], list[Event]]] = {
            dbn.TradeMsg: self._on_trade,
            dbn.MBP1Msg: self._on_mbp1,
            dbn.CMBP1Msg: self._on_cmbp1,
            dbn.CBBOMsg: self._on_consolidated_quote,
            dbn.BBOMsg: self._on_bbo,
            dbn.InstrumentDefMsg: self._on_definition,
            dbn.StatMsg: self._on_statistic,
            dbn.SymbolMappingMsg: self._on_symbol_mapping,
            dbn.SystemMsg: self._on_system,
            dbn.ErrorMsg: self._on_error,
        }

    def saw_ts_recv(self, ts_recv: int) -> None:
        """Note a receive time handled outside `__call__` (the column path)."""
        if self._last_ts_recv < ts_recv <= MAX_TIMESTAMP:
            self._last_ts_recv = ts_recv

    # ------------------------------------------------------------------ entry points

    def add_metadata(self, metadata: dbn.Metadata) -> None:
        """Take the symbology mappings of a DBN file or live session."""
        try:
            if not self.symbology.add_metadata(metadata):
                self.counters["metadata_mappings_not_raw_symbols"] += 1
        except (ValueError, TypeError, KeyError, OverflowError) as exc:
            # The file's records still normalise; unmapped ones quarantine on their own.
            self.counters["bad_metadata_mappings"] += 1
            self.last_metadata_error = f"{type(exc).__name__}: {exc}"

    def __call__(self, record: Any, books: BookEvents | None = None) -> list[Event]:
        """Normalise one record (any DBN record type) into zero or more events; `books`
        collects the stream's order-book records (default: this normaliser's own)."""
        self.counters["records"] += 1
        handler = self._handlers.get(type(record))
        if handler is None and self.emit_books and isinstance(record, BOOK_RECORDS):
            handler = partial(self._on_book_record, books or self.books)
        if handler is None:
            if isinstance(record, dbn.Metadata):
                self.add_metadata(record)
                return []
            self.counters[f"ignored:{type(record).__name__}"] += 1
            return []
        try:
            events = handler(record)
        except Exception as exc:  # noqa: BLE001  (bad input must become a quarantine, never a crash)
            events = [self.quarantine(record, "unparseable_record", f"{type(exc).__name__}: {exc}")]
        for event in events:
            self.counters[type(event).__name__] += 1
        return events

    def book_stream(self) -> BookEvents:
        """A collector of order-book records for one more stream (one per file)."""
        return BookEvents(self.source, self.counters)

    def flush_books(self, books: BookEvents | None = None) -> list[Event]:
        """The unfinished order-book events of a stream that has ended."""
        events = (books or self.books).flush()
        for event in events:
            self.counters[type(event).__name__] += 1
        return events

    def callback(self, sink: Callable[[list[Event]], None]) -> RecordCallback:
        """A `Live.add_callback` / `DBNStore.replay` callback handing events to `sink`."""

        def on_record(record: Any) -> None:
            events = self(record)
            if events:
                sink(events)

        return on_record

    def quarantine(self, record: Any, reason: str, detail: str = "") -> Quarantined:
        """A Quarantined event for `record`, keeping its raw bytes as evidence."""
        self.counters[f"quarantined:{reason}"] += 1
        ts_recv = record.ts_recv if isinstance(record, _RECEIVED_RECORDS) else UNDEF_TIMESTAMP
        if ts_recv > MAX_TIMESTAMP:  # undefined or beyond int64
            ts_recv = self._last_ts_recv
        try:
            payload = bytes(record)
        except Exception:  # noqa: BLE001  (evidence is best effort)
            payload = b""
        if not detail:
            detail = (
                f"{type(record).__name__} publisher_id={record.publisher_id} "
                f"instrument_id={record.instrument_id}"
            )
        return Quarantined(
            ts_recv=ts_recv, source=self.source, reason=reason, detail=detail, payload=payload
        )

    def _resolve(self, record: Any, ts_recv: int, instrument_id: int) -> Instrument | Quarantined:
        """The instrument of a market-data record, or its quarantine."""
        if ts_recv == UNDEF_TIMESTAMP:
            return self.quarantine(record, "undefined_ts_recv")
        if ts_recv > MAX_TIMESTAMP:
            return self.quarantine(record, "ts_recv_out_of_range", f"ts_recv={ts_recv}")
        self._last_ts_recv = ts_recv
        resolved = self.symbology.resolve(record.publisher_id, instrument_id, ts_recv // NS_PER_DAY)
        if isinstance(resolved, Unresolved):
            if resolved.reason == UNMAPPED_INSTRUMENT:
                self.counters[UNMAPPED_INSTRUMENT] += 1
            return self.quarantine(record, resolved.reason, resolved.detail)
        return resolved

    def _not_occ(self, record: Any, symbol: str) -> Quarantined:
        return self.quarantine(record, "bad_symbol", f"{symbol!r} is not an OCC symbol")

    # -------------------------------------------------------------------- trades

    def _print(self, record: Any, bbo: Bbo | None, consolidated: bool) -> list[Event]:
        ts_recv, instrument_id = record.ts_recv, record.instrument_id
        instrument = self._resolve(record, ts_recv, instrument_id)
        if isinstance(instrument, Quarantined):
            return [instrument]
        pub, kind, symbol, contract = instrument
        price = record.price
        if price == UNDEF_PRICE:
            return [self.quarantine(record, "undefined_price")]
        if price < 0 and kind != FUTURE:
            return [self.quarantine(record, "negative_price", f"price={price}")]
        size = record.size
        if size <= 0:
            return [self.quarantine(record, "nonpositive_size", f"size={size}")]
        ts_event = record.ts_event
        if ts_event == UNDEF_TIMESTAMP:
            return [self.quarantine(record, "undefined_ts_event")]
        if ts_event > MAX_TIMESTAMP:
            return [self.quarantine(record, "ts_event_out_of_range", f"ts_event={ts_event}")]
        sequence = getattr(record, "sequence", 0)
        side = record.side.value
        flags = int(record.flags)
        bid_px = ask_px = bid_sz = ask_sz = None
        if kind in CME_KINDS:
            if bbo is not None:
                self.counters["venue_bbo_dropped"] += 1
            return [
                cme_trade(
                    self.source, pub, symbol, ts_recv, ts_event, instrument_id, sequence, price,
                    size, side, flags,
                )
            ]  # fmt: skip
        if kind == OPTION:
            underlying = underlying_of(symbol, contract)
            if underlying is None:
                return [self._not_occ(record, symbol)]
            if bbo is not None:
                if consolidated:
                    bid_px, ask_px, bid_sz, ask_sz = bbo
                else:
                    self.counters["venue_bbo_dropped"] += 1
            return [
                option_print(
                    self.source, pub, symbol, underlying, ts_recv, ts_event, instrument_id,
                    sequence, price, size, side, flags, bid_px, ask_px, bid_sz, ask_sz,
                )
            ]  # fmt: skip
        if bbo is not None:
            bid_px, ask_px, bid_sz, ask_sz = bbo
        return [
            equity_print(
                self.source, pub, symbol, ts_recv, ts_event, instrument_id, sequence, price,
                size, side, flags, bid_px, ask_px, bid_sz, ask_sz,
            )
        ]  # fmt: skip

    def _on_trade(self, record: dbn.TradeMsg) -> list[Event]:
        return self._print(record, None, False)

    # -------------------------------------------------------------------- quotes

    def _quote(
        self,
        record: Any,
        *,
        consolidated: bool,
        sampled: bool = False,
        bid_pb: int | None = None,
        ask_pb: int | None = None,
    ) -> list[Event]:
        ts_recv, instrument_id = record.ts_recv, record.instrument_id
        instrument = self._resolve(record, ts_recv, instrument_id)
        if isinstance(instrument, Quarantined):
            return [instrument]
        pub, kind, symbol, contract = instrument
        if kind == OPTION and not consolidated and pub.publisher_id != OPRA_CONSOLIDATED_PUBLISHER:
            if not self.emit_venue_quotes:
                self.counters["venue_quote_skipped"] += 1
                return []
            bid_pb = ask_pb = pub.publisher_id
        bid_px, ask_px, bid_sz, ask_sz = _top_of_book(record)
        problem = quote_problem(bid_px, ask_px, bid_sz, ask_sz, negative_prices=kind == FUTURE)
        if problem is not None:
            detail = f"bid={bid_px}x{bid_sz} ask={ask_px}x{ask_sz}"
            return [self.quarantine(record, problem, detail)]
        ts_event = record.ts_event
        if ts_event == UNDEF_TIMESTAMP:
            if not sampled:
                return [self.quarantine(record, "undefined_ts_event")]
            # A sampled BBO's ts_event is its last trade's time (undefined before the first
            # trade); the quote itself is the state at the end of the interval, ts_recv.
            ts_event = ts_recv
        if ts_event > MAX_TIMESTAMP:
            return [self.quarantine(record, "ts_event_out_of_range", f"ts_event={ts_event}")]
        sequence = getattr(record, "sequence", 0)
        if kind in CME_KINDS:
            return [
                cme_quote(
                    self.source, pub, symbol, ts_recv, ts_event, instrument_id, sequence,
                    bid_px, ask_px, bid_sz, ask_sz, sampled,
                )
            ]  # fmt: skip
        if kind == OPTION:
            underlying = underlying_of(symbol, contract)
            if underlying is None:
                return [self._not_occ(record, symbol)]
            return [
                option_quote(
                    self.source, pub, symbol, underlying, ts_recv, ts_event, instrument_id,
                    sequence, bid_px, ask_px, bid_sz, ask_sz, bid_pb, ask_pb, sampled,
                )
            ]  # fmt: skip
        return [
            equity_quote(
                self.source, pub, symbol, ts_recv, ts_event, instrument_id, sequence,
                bid_px, ask_px, bid_sz, ask_sz,
            )
        ]  # fmt: skip

    def _on_mbp1(self, record: dbn.MBP1Msg) -> list[Event]:
        if record.action.value == "T":
            return self._print(record, _top_of_book(record), False)
        return self._quote(record, consolidated=False)

    def _on_cmbp1(self, record: dbn.CMBP1Msg) -> list[Event]:
        if record.action.value == "T":
            return self._print(record, _top_of_book(record), True)
        return self._on_consolidated_quote(record, sampled=False)

    def _on_consolidated_quote(self, record: Any, sampled: bool = True) -> list[Event]:
        return self._quote(
            record,
            consolidated=True,
            sampled=sampled,
            bid_pb=record.bid_pb_00 or None,
            ask_pb=record.ask_pb_00 or None,
        )

    def _on_bbo(self, record: dbn.BBOMsg) -> list[Event]:
        return self._quote(record, consolidated=False, sampled=True)

    # -------------------------------------------------------------- reference data

    def _on_definition(self, record: dbn.InstrumentDefMsg) -> list[Event]:
        pub = publisher_info(record.publisher_id)
        if pub is None:
            return [self.quarantine(record, "unknown_publisher")]
        if record.ts_recv <= MAX_TIMESTAMP:
            self._last_ts_recv = record.ts_recv
        contract = contract_info(
            pub, record.raw_symbol, record.instrument_class.value, record.underlying
        )
        if record.security_update_action.value == "D":
            self.symbology.forget(record.instrument_id)
            self.counters["definition_deleted"] += 1
            return []
        if contract.kind in CME_KINDS:
            return self._cme_definition(record, pub, contract)
        self.symbology.define(record.instrument_id, contract)
        if contract.kind != OPTION:
            self.counters[f"ignored:definition:{contract.instrument_class}"] += 1
            return []
        if not contract.underlying:
            return [self.quarantine(record, "bad_symbol", f"{contract.symbol!r}: no underlying")]
        strike = undef_price(record.strike_price)
        if strike is None:
            return [self.quarantine(record, "undefined_strike", f"{contract.symbol!r}")]
        ts_event = record.ts_event
        if record.ts_recv > MAX_TIMESTAMP or ts_event > MAX_TIMESTAMP:  # undefined, or beyond
            return [self.quarantine(record, "undefined_timestamp")]
        return [
            option_contract(
                self.source, pub, contract.symbol, contract.underlying,
                contract.instrument_class, record.ts_recv, ts_event, record.instrument_id,
                strike, record.expiration, record.contract_multiplier,
                record.unit_of_measure_qty,
            )
        ]  # fmt: skip

    def _cme_definition(
        self, record: dbn.InstrumentDefMsg, pub: Publisher, contract: ContractInfo
    ) -> list[Event]:
        """A CME future's or option's definition; one that cannot be used is quarantined and
        forgotten, so its instrument's records fail closed."""
        problem = _cme_definition_problem(record, contract.kind)
        if problem is not None:
            self.symbology.forget(record.instrument_id)
            detail = f"{record.raw_symbol!r} instrument_id={record.instrument_id}"
            return [self.quarantine(record, problem, detail)]
        self.symbology.define(record.instrument_id, contract)
        return [cme_instrument(self.source, pub, record)]

    def _on_statistic(self, record: dbn.StatMsg) -> list[Event]:
        pub = publisher_info(record.publisher_id)
        if pub is not None and pub.dataset == CME_DATASET:
            return self._cme_statistic(record)
        if record.stat_type != dbn.StatType.OPEN_INTEREST:
            self.counters[f"ignored:statistic:{record.stat_type.name}"] += 1
            return []
        if record.update_action != dbn.StatUpdateAction.NEW:
            self.counters["ignored:statistic:delete"] += 1
            return []
        ts_recv, instrument_id = record.ts_recv, record.instrument_id
        instrument = self._resolve(record, ts_recv, instrument_id)
        if isinstance(instrument, Quarantined):
            return [instrument]
        pub, kind, symbol, contract = instrument
        if kind != OPTION:
            self.counters["ignored:statistic:non_option_open_interest"] += 1
            return []
        quantity = record.quantity
        if quantity == _UNDEF_QTY or quantity < 0:
            return [self.quarantine(record, "bad_open_interest", f"quantity={quantity}")]
        ts_event = record.ts_event
        if ts_event > MAX_TIMESTAMP:  # undefined, or beyond int64
            return [self.quarantine(record, "undefined_ts_event")]
        key = (instrument_id, ts_recv // NS_PER_DAY)
        if self._open_interest.get(key) == quantity:
            self.counters["open_interest_duplicate"] += 1
            return []
        self._open_interest[key] = quantity
        underlying = underlying_of(symbol, contract)
        if underlying is None:
            return [self._not_occ(record, symbol)]
        return [
            open_interest(
                self.source, pub, symbol, underlying, ts_recv, ts_event, instrument_id,
                record.sequence, quantity,
            )
        ]  # fmt: skip

    def _cme_statistic(self, record: dbn.StatMsg) -> list[Event]:
        ts_recv, instrument_id = record.ts_recv, record.instrument_id
        instrument = self._resolve(record, ts_recv, instrument_id)
        if isinstance(instrument, Quarantined):
            return [instrument]
        if record.ts_event > MAX_TIMESTAMP:  # undefined, or beyond int64
            return [self.quarantine(record, "undefined_ts_event")]
        pub, _, symbol, _ = instrument
        return [cme_statistic(self.source, pub, symbol, record)]

    # ------------------------------------------------------------------ order books

    def _on_book_record(self, books: BookEvents, record: Any) -> list[Event]:
        action, side = books.fields(record)
        problem = books.problem(action, side)
        if problem is not None:
            return [self.quarantine(record, *problem)]
        ts_recv = record.ts_recv
        if ts_recv == UNDEF_TIMESTAMP:
            return [self.quarantine(record, "undefined_ts_recv")]
        if ts_recv > MAX_TIMESTAMP:
            return [self.quarantine(record, "ts_recv_out_of_range", f"ts_recv={ts_recv}")]
        self._last_ts_recv = ts_recv
        named = self.symbology.name(
            record.publisher_id, record.instrument_id, ts_recv // NS_PER_DAY
        )
        if isinstance(named, Unresolved):
            if named.reason == UNMAPPED_INSTRUMENT:
                self.counters[UNMAPPED_INSTRUMENT] += 1
            return [self.quarantine(record, named.reason, named.detail)]
        return books.add(record, action, side, *named)

    # ---------------------------------------------------------------- control records

    def _on_symbol_mapping(self, record: dbn.SymbolMappingMsg) -> list[Event]:
        self.symbology.add_mapping_record(record)
        self.counters["symbol_mappings"] += 1
        return []

    def _on_system(self, record: dbn.SystemMsg) -> list[Event]:
        ts = record.ts_event if record.ts_event <= MAX_TIMESTAMP else self._last_ts_recv
        if record.is_heartbeat():
            return [Heartbeat(ts_recv=ts, source=self.source)]
        self.counters["system_messages"] += 1
        return []

    def _on_error(self, record: dbn.ErrorMsg) -> list[Event]:
        return [self.quarantine(record, "gateway_error", str(record.err))]


def _top_of_book(record: Any) -> Bbo:
    """The best bid and offer of an `mbp-1`/`cmbp-1`/`cbbo`/`bbo` record (undefined prices
    as None, like `undef_price`, which every quote and BBO print would call twice here)."""
    bid_px, ask_px = record.bid_px_00, record.ask_px_00
    return (
        None if bid_px == UNDEF_PRICE else bid_px,
        None if ask_px == UNDEF_PRICE else ask_px,
        record.bid_sz_00,
        record.ask_sz_00,
    )


def quote_problem(
    bid_px: int | None,
    ask_px: int | None,
    bid_sz: int,
    ask_sz: int,
    *,
    negative_prices: bool = False,
) -> str | None:
    """The quarantine reason of a top-of-book quote, or None when it is usable.

    One-sided quotes are fine (options often have no bid); a book with neither side, a
    negative size, a negative price (unless `negative_prices`: futures), or a bid above the
    ask is not.
    """
    if bid_sz < 0 or ask_sz < 0:
        return "negative_size"
    negative = (bid_px is not None and bid_px < 0) or (ask_px is not None and ask_px < 0)
    if negative and not negative_prices:
        return "negative_price"
    no_bid = bid_px is None or (bid_px == 0 and bid_sz == 0)
    no_ask = ask_px is None or (ask_px == 0 and ask_sz == 0)
    if no_bid and no_ask:
        return "empty_quote"
    if bid_px is not None and ask_px is not None and bid_px > ask_px:
        if ask_px > 0 or negative_prices:
            return "crossed_quote"
    return None


def _cme_definition_problem(record: dbn.InstrumentDefMsg, kind: str) -> str | None:
    """Why a CME definition cannot be used, or None."""
    if record.ts_recv > MAX_TIMESTAMP or record.ts_event > MAX_TIMESTAMP:  # undefined, or beyond
        return "undefined_timestamp"
    if record.expiration == UNDEF_TIMESTAMP:
        return "undefined_expiration"
    if record.unit_of_measure_qty in (UNDEF_PRICE, 0):
        return "undefined_multiplier"
    if kind == FUTURE_OPTION:
        if record.strike_price == UNDEF_PRICE:
            return "undefined_strike"
        if not record.underlying:
            return "missing_underlying"
    return None
