"""One record handler for every Databento path: DBN records -> flowtape raw events.

`RecordNormaliser` is the single place where a Databento record becomes events. The file
source, the `databento.Historical` path, the `databento.Live` callback and the synthetic
market's live mode all call it, so the same record always gives the same events.

Decisions (see DOMAIN.md for the facts behind them):

- Instrument kind comes from the record's publisher: `OPRA.*` is an equity option; CME
  (`GLBX.MDP3`) and other futures venues need a definition: an option on a future
  (`instrument_class` C/P) becomes OptionContract/OptionPrint/OptionQuote with the
  definition's `underlying` (e.g. `ESH1`), anything else there (outright futures,
  spreads) is quarantined as `unsupported_instrument_class`; every other dataset is
  treated as equities (EquityPrint/EquityQuote with the publisher's venue code).
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
- Symbology fails closed: the symbol is the file's (or live stream's) mapping for the
  record's UTC date, else the raw symbol of a definition seen for that instrument; with
  neither, the record is quarantined as `unmapped_instrument` and counted. Files
  requested by parent or continuous symbol map ids to that request name, not to raw
  symbols, so for them the definitions are the only symbology. A definition
  whose raw symbol disagrees with that day's mapping is stale (instrument ids are reused
  across days) and is not used.
- Undefined prices (i64::MAX) and timestamps (u64::MAX) become None where the event field
  allows it; a print without a price or event time, an empty or crossed quote, a negative
  price or a zero size is quarantined with a reason. Sampled BBOs (`bbo-*`, `cbbo-*`) are
  the exception for `ts_event`: theirs is the time of the last *trade*, undefined before
  the first one, so such a quote is stamped with its sample time `ts_recv`.
- Open interest arrives once per venue; one OpenInterest is emitted per contract per UTC
  day, and again only when the value changes.
- Records that are not market data for flowtape (OHLCV, MBO, MBP-10, status, imbalance,
  statistics other than open interest, equity/futures definitions) are counted under
  `ignored:<record type>`; they are a subscription choice, not bad input.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import databento_dbn as dbn
from databento import Publisher as DatabentoPublisher
from databento.common.symbology import InstrumentMap

from schemas.events import (
    UNDEF_PRICE,
    UNDEF_TIMESTAMP,
    EquityPrint,
    EquityQuote,
    Event,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)
from schemas.occ import parse_occ

NS_PER_DAY = 86_400_000_000_000
OPRA_CONSOLIDATED_PUBLISHER = 30  # OPRA.PILLAR.OPRA
_EPOCH = date(1970, 1, 1)
_UNDEF_QTY = 2**63 - 1  # StatMsg.quantity's undefined value
_UNDEF_I32 = 2**31 - 1

OFF_EXCHANGE_VENUES = frozenset({"FINN", "FINC", "FINY", "XADF"})
# Futures venues: every instrument there needs a definition to be classified.
_DEFINITION_DATASETS = frozenset(
    {
        "GLBX.MDP3",
        "IFEU.IMPACT",
        "IFUS.IMPACT",
        "IFLL.IMPACT",
        "NDEX.IMPACT",
        "XEUR.EOBI",
        "XEEE.EOBI",
        "XCBF.PITCH",
    }
)
_NON_EQUITY_PREFIXES = ("DBIX.", "MSCI.", "FTSE.", "INAV.", "MSTAR.", "CCCY.", "CGI.", "MAIN.")

OPTION, EQUITY, DEFINED, UNSUPPORTED = "option", "equity", "defined", "unsupported"


def undef_price(value: int) -> int | None:
    """Databento's undefined price (i64::MAX) as None."""
    return None if value == UNDEF_PRICE else value


def undef_ts(value: int) -> int | None:
    """Databento's undefined timestamp (u64::MAX) as None."""
    return None if value == UNDEF_TIMESTAMP else value


def utc_day(ts: int) -> int:
    """Days since the epoch of a nanosecond timestamp (the key of per-day symbology)."""
    return ts // NS_PER_DAY


@dataclass(frozen=True, slots=True)
class Publisher:
    """What flowtape needs to know about one Databento publisher id."""

    publisher_id: int
    name: str
    dataset: str
    venue: str
    kind: str  # OPTION, EQUITY, DEFINED (kind comes from definitions) or UNSUPPORTED
    off_exchange: bool


_PUBLISHERS: dict[int, Publisher | None] = {}


def publisher_info(publisher_id: int) -> Publisher | None:
    """The publisher behind an id, or None for an id Databento does not define."""
    try:
        return _PUBLISHERS[publisher_id]
    except KeyError:
        pass
    info: Publisher | None
    try:
        pub = DatabentoPublisher.from_int(publisher_id)
    except (ValueError, TypeError):
        info = None
    else:
        dataset, venue = str(pub.dataset), str(pub.venue)
        if dataset.startswith("OPRA."):
            kind = OPTION
        elif dataset in _DEFINITION_DATASETS:
            kind = DEFINED
        elif dataset.startswith(_NON_EQUITY_PREFIXES):
            kind = UNSUPPORTED
        else:
            kind = EQUITY
        info = Publisher(publisher_id, str(pub), dataset, venue, kind, venue in OFF_EXCHANGE_VENUES)
    _PUBLISHERS[publisher_id] = info
    return info


@dataclass(frozen=True, slots=True)
class ContractInfo:
    """An instrument definition as far as normalisation needs it."""

    symbol: str
    kind: str  # OPTION, EQUITY or UNSUPPORTED
    instrument_class: str
    underlying: str


class Symbology:
    """instrument_id -> symbol by UTC date, from DBN metadata and SymbolMappingMsg records."""

    def __init__(self) -> None:
        self._map = InstrumentMap()
        self._cache: dict[tuple[int, int], str | None] = {}

    def add_metadata(self, metadata: dbn.Metadata) -> bool:
        """Take the mappings of a file's (or live session's) metadata; False if unusable.

        Parent (`AAPL.OPT`) and continuous (`ES.c.0`) requests map ids to the requested
        name, not to each instrument's raw symbol, so their mappings are not used: those
        instruments are named by their definitions (merge the `definition` file in).
        """
        if metadata.stype_in in (dbn.SType.PARENT, dbn.SType.CONTINUOUS):
            return False
        self._map.insert_metadata(metadata)
        self._cache.clear()
        return True

    def add_mapping_record(self, record: dbn.SymbolMappingMsg) -> None:
        """Take a live SymbolMappingMsg."""
        self._map.insert_symbol_mapping_msg(record)
        self._cache.clear()

    def resolve(self, instrument_id: int, day: int) -> str | None:
        """The symbol of `instrument_id` on UTC day `day`, or None (never a guess)."""
        key = (instrument_id, day)
        try:
            return self._cache[key]
        except KeyError:
            pass
        symbol = self._map.resolve(instrument_id, _EPOCH + timedelta(days=day))
        symbol = str(symbol) if symbol else None
        self._cache[key] = symbol
        return symbol


RecordCallback = Callable[[Any], None]
Resolved = tuple[Publisher, str, str, ContractInfo | None]  # publisher, kind, symbol, definition
PrintTarget = tuple[Publisher, str, str, str]  # publisher, kind, symbol, underlying


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
        symbology: Symbology | None = None,
    ) -> None:
        self.source = source
        self.emit_venue_quotes = emit_venue_quotes
        self.symbology = symbology or Symbology()
        self.definitions: dict[int, ContractInfo] = {}
        self.counters: Counter[str] = Counter()
        self._open_interest: dict[tuple[int, int], int] = {}
        self._last_ts_recv = 0
        self.last_metadata_error = ""
        # Bumped whenever symbology or definitions change (bulk path caches resolutions).
        self.generation = 0
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

    @property
    def last_ts_recv(self) -> int:
        """The newest receive time seen (stamps quarantines of records that have none)."""
        return self._last_ts_recv

    def saw_ts_recv(self, ts_recv: int) -> None:
        """Note a receive time handled outside `__call__` (the bulk path)."""
        if ts_recv != UNDEF_TIMESTAMP and ts_recv > self._last_ts_recv:
            self._last_ts_recv = ts_recv

    # ------------------------------------------------------------------ entry points

    def add_metadata(self, metadata: dbn.Metadata) -> None:
        """Take the symbology mappings of a DBN file or live session."""
        self.generation += 1
        try:
            if not self.symbology.add_metadata(metadata):
                self.counters["metadata_mappings_not_raw_symbols"] += 1
        except (ValueError, TypeError, KeyError) as exc:
            # The file's records still normalise; unmapped ones quarantine on their own.
            self.counters["bad_metadata_mappings"] += 1
            self.last_metadata_error = f"{type(exc).__name__}: {exc}"

    def __call__(self, record: Any) -> list[Event]:
        """Normalise one record (any DBN record type) into zero or more events."""
        self.counters["records"] += 1
        handler = self._handlers.get(type(record))
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
        ts_recv = getattr(record, "ts_recv", None)
        if ts_recv is None or ts_recv == UNDEF_TIMESTAMP:
            ts_recv = self._last_ts_recv
        try:
            payload = bytes(record)
        except Exception:  # noqa: BLE001  (evidence is best effort)
            payload = b""
        if not detail:
            detail = (
                f"{type(record).__name__} publisher_id={getattr(record, 'publisher_id', '?')} "
                f"instrument_id={getattr(record, 'instrument_id', '?')}"
            )
        return Quarantined(
            ts_recv=ts_recv, source=self.source, reason=reason, detail=detail, payload=payload
        )

    # -------------------------------------------------------------------- resolution

    def _resolve(self, record: Any) -> Resolved | Quarantined:
        """(publisher, kind, symbol, definition) for a market-data record, or its quarantine."""
        ts_recv = record.ts_recv
        if ts_recv == UNDEF_TIMESTAMP:
            return self.quarantine(record, "undefined_ts_recv")
        self._last_ts_recv = ts_recv
        pub = publisher_info(record.publisher_id)
        if pub is None:
            return self.quarantine(record, "unknown_publisher")
        instrument_id = record.instrument_id
        symbol = self.symbology.resolve(instrument_id, ts_recv // NS_PER_DAY)
        contract = self.definitions.get(instrument_id)
        if contract is not None and symbol is not None and contract.symbol != symbol:
            contract = None  # a definition from another day: instrument ids are reused
        if symbol is None:
            if contract is None:
                self.counters["unmapped_instrument"] += 1
                return self.quarantine(
                    record,
                    "unmapped_instrument",
                    f"instrument_id={instrument_id} has no symbol mapping on "
                    f"{_EPOCH + timedelta(days=ts_recv // NS_PER_DAY)} (publisher {pub.name})",
                )
            symbol = contract.symbol
        kind = pub.kind
        if kind == DEFINED:
            if contract is None:
                return self.quarantine(
                    record,
                    "missing_definition",
                    f"{pub.dataset} instrument {symbol!r} needs a definition to be classified",
                )
            kind = contract.kind
        if kind == UNSUPPORTED:
            cls = contract.instrument_class if contract else "?"
            return self.quarantine(
                record,
                "unsupported_instrument_class",
                f"{symbol!r} on {pub.name} has instrument class {cls!r}",
            )
        return pub, kind, symbol, contract

    def print_target(self, publisher_id: int, instrument_id: int, day: int) -> PrintTarget | None:
        """(publisher, kind, symbol, underlying) of a print that `_resolve` would accept.

        None whenever the record path would quarantine or look closer; the bulk path then
        hands that record to `__call__`, so both paths give the same events.
        """
        pub = publisher_info(publisher_id)
        if pub is None:
            return None
        symbol = self.symbology.resolve(instrument_id, day)
        contract = self.definitions.get(instrument_id)
        if contract is not None and symbol is not None and contract.symbol != symbol:
            contract = None
        if symbol is None:
            if contract is None:
                return None
            symbol = contract.symbol
        kind = pub.kind
        if kind == DEFINED:
            if contract is None:
                return None
            kind = contract.kind
        if kind == UNSUPPORTED:
            return None
        underlying = self._underlying(symbol, contract) if kind == OPTION else ""
        if underlying is None:
            return None
        return pub, kind, symbol, underlying

    def _underlying(self, symbol: str, contract: ContractInfo | None) -> str | None:
        if contract is not None and contract.underlying:
            return contract.underlying
        try:
            return parse_occ(symbol).root
        except ValueError:
            return None

    # -------------------------------------------------------------------- trades

    def _print(
        self,
        record: Any,
        bbo: tuple[int | None, int | None, int, int] | None,
        consolidated: bool,
    ) -> list[Event]:
        resolved = self._resolve(record)
        if isinstance(resolved, Quarantined):
            return [resolved]
        pub, kind, symbol, contract = resolved
        price = record.price
        if price == UNDEF_PRICE:
            return [self.quarantine(record, "undefined_price")]
        if price < 0:
            return [self.quarantine(record, "negative_price", f"price={price}")]
        size = record.size
        if size <= 0:
            return [self.quarantine(record, "nonpositive_size", f"size={size}")]
        ts_event = record.ts_event
        if ts_event == UNDEF_TIMESTAMP:
            return [self.quarantine(record, "undefined_ts_event")]
        sequence = getattr(record, "sequence", 0)
        side = record.side.value
        flags = int(record.flags)
        bid_px = ask_px = bid_sz = ask_sz = None
        if kind == OPTION:
            underlying = self._underlying(symbol, contract)
            if underlying is None:
                return [self.quarantine(record, "bad_symbol", f"{symbol!r} is not an OCC symbol")]
            if bbo is not None:
                if consolidated:
                    bid_px, ask_px, bid_sz, ask_sz = bbo
                else:
                    self.counters["venue_bbo_dropped"] += 1
            return [
                OptionPrint(
                    ts_recv=record.ts_recv,
                    ts_event=ts_event,
                    publisher_id=pub.publisher_id,
                    instrument_id=record.instrument_id,
                    sequence=sequence,
                    source=self.source,
                    symbol=symbol,
                    underlying=underlying,
                    price=price,
                    size=size,
                    side=side,
                    flags=flags,
                    bid_px=bid_px,
                    ask_px=ask_px,
                    bid_sz=bid_sz,
                    ask_sz=ask_sz,
                )
            ]
        if bbo is not None:
            bid_px, ask_px, bid_sz, ask_sz = bbo
        return [
            EquityPrint(
                ts_recv=record.ts_recv,
                ts_event=ts_event,
                publisher_id=pub.publisher_id,
                instrument_id=record.instrument_id,
                sequence=sequence,
                source=self.source,
                symbol=symbol,
                venue=pub.venue,
                off_exchange=pub.off_exchange,
                price=price,
                size=size,
                side=side,
                flags=flags,
                bid_px=bid_px,
                ask_px=ask_px,
                bid_sz=bid_sz,
                ask_sz=ask_sz,
            )
        ]

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
        resolved = self._resolve(record)
        if isinstance(resolved, Quarantined):
            return [resolved]
        pub, kind, symbol, contract = resolved
        if kind == OPTION and not consolidated and pub.publisher_id != OPRA_CONSOLIDATED_PUBLISHER:
            if not self.emit_venue_quotes:
                self.counters["venue_quote_skipped"] += 1
                return []
            bid_pb = ask_pb = pub.publisher_id
        bid_px = undef_price(record.bid_px_00)
        ask_px = undef_price(record.ask_px_00)
        bid_sz, ask_sz = record.bid_sz_00, record.ask_sz_00
        problem = quote_problem(bid_px, ask_px, bid_sz, ask_sz)
        if problem is not None:
            detail = f"bid={bid_px}x{bid_sz} ask={ask_px}x{ask_sz}"
            return [self.quarantine(record, problem, detail)]
        ts_event = record.ts_event
        if ts_event == UNDEF_TIMESTAMP:
            if not sampled:
                return [self.quarantine(record, "undefined_ts_event")]
            # A sampled BBO's ts_event is its last trade's time (undefined before the first
            # trade); the quote itself is the state at the end of the interval, ts_recv.
            ts_event = record.ts_recv
        sequence = getattr(record, "sequence", 0)
        if kind == OPTION:
            underlying = self._underlying(symbol, contract)
            if underlying is None:
                return [self.quarantine(record, "bad_symbol", f"{symbol!r} is not an OCC symbol")]
            return [
                OptionQuote(
                    ts_recv=record.ts_recv,
                    ts_event=ts_event,
                    publisher_id=pub.publisher_id,
                    instrument_id=record.instrument_id,
                    sequence=sequence,
                    source=self.source,
                    symbol=symbol,
                    underlying=underlying,
                    bid_px=bid_px,
                    ask_px=ask_px,
                    bid_sz=bid_sz,
                    ask_sz=ask_sz,
                    bid_pb=bid_pb,
                    ask_pb=ask_pb,
                )
            ]
        return [
            EquityQuote(
                ts_recv=record.ts_recv,
                ts_event=ts_event,
                publisher_id=pub.publisher_id,
                instrument_id=record.instrument_id,
                sequence=sequence,
                source=self.source,
                symbol=symbol,
                venue=pub.venue,
                bid_px=bid_px,
                ask_px=ask_px,
                bid_sz=bid_sz,
                ask_sz=ask_sz,
            )
        ]

    def _on_mbp1(self, record: dbn.MBP1Msg) -> list[Event]:
        if record.action.value == "T":
            bbo = (
                undef_price(record.bid_px_00),
                undef_price(record.ask_px_00),
                record.bid_sz_00,
                record.ask_sz_00,
            )
            return self._print(record, bbo, False)
        return self._quote(record, consolidated=False)

    def _on_cmbp1(self, record: dbn.CMBP1Msg) -> list[Event]:
        if record.action.value == "T":
            bbo = (
                undef_price(record.bid_px_00),
                undef_price(record.ask_px_00),
                record.bid_sz_00,
                record.ask_sz_00,
            )
            return self._print(record, bbo, True)
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
        if record.ts_recv != UNDEF_TIMESTAMP:
            self._last_ts_recv = record.ts_recv
        instrument_class = record.instrument_class.value
        symbol = record.raw_symbol
        is_option = instrument_class in ("C", "P")
        if pub.kind == OPTION or (pub.kind == DEFINED and is_option):
            kind = OPTION if is_option else UNSUPPORTED
        elif pub.kind == DEFINED:
            kind = UNSUPPORTED
        else:
            kind = pub.kind
        underlying = record.underlying
        if kind == OPTION and not underlying:
            try:
                underlying = parse_occ(symbol).root
            except ValueError:
                underlying = ""
        self.generation += 1
        if record.security_update_action.value == "D":
            self.definitions.pop(record.instrument_id, None)
            self.counters["definition_deleted"] += 1
            return []
        self.definitions[record.instrument_id] = ContractInfo(
            symbol, kind, instrument_class, underlying
        )
        if kind != OPTION:
            self.counters[f"ignored:definition:{instrument_class}"] += 1
            return []
        if not underlying:
            return [self.quarantine(record, "bad_symbol", f"{symbol!r}: no underlying")]
        strike = undef_price(record.strike_price)
        if strike is None:
            return [self.quarantine(record, "undefined_strike", f"{symbol!r}")]
        ts_event = record.ts_event
        if record.ts_recv == UNDEF_TIMESTAMP or ts_event == UNDEF_TIMESTAMP:
            return [self.quarantine(record, "undefined_timestamp")]
        return [
            OptionContract(
                ts_recv=record.ts_recv,
                ts_event=ts_event,
                publisher_id=pub.publisher_id,
                instrument_id=record.instrument_id,
                source=self.source,
                symbol=symbol,
                underlying=underlying,
                right="C" if instrument_class == "C" else "P",
                strike_price=strike,
                expiration=undef_ts(record.expiration),
                multiplier=_multiplier(record),
            )
        ]

    def _on_statistic(self, record: dbn.StatMsg) -> list[Event]:
        if record.stat_type != dbn.StatType.OPEN_INTEREST:
            self.counters[f"ignored:statistic:{record.stat_type.name}"] += 1
            return []
        if record.update_action != dbn.StatUpdateAction.NEW:
            self.counters["ignored:statistic:delete"] += 1
            return []
        resolved = self._resolve(record)
        if isinstance(resolved, Quarantined):
            return [resolved]
        pub, kind, symbol, contract = resolved
        if kind != OPTION:
            self.counters["ignored:statistic:non_option_open_interest"] += 1
            return []
        quantity = record.quantity
        if quantity == _UNDEF_QTY or quantity < 0:
            return [self.quarantine(record, "bad_open_interest", f"quantity={quantity}")]
        ts_event = record.ts_event
        if ts_event == UNDEF_TIMESTAMP:
            return [self.quarantine(record, "undefined_ts_event")]
        key = (record.instrument_id, record.ts_recv // NS_PER_DAY)
        if self._open_interest.get(key) == quantity:
            self.counters["open_interest_duplicate"] += 1
            return []
        self._open_interest[key] = quantity
        underlying = self._underlying(symbol, contract)
        if underlying is None:
            return [self.quarantine(record, "bad_symbol", f"{symbol!r} is not an OCC symbol")]
        return [
            OpenInterest(
                ts_recv=record.ts_recv,
                ts_event=ts_event,
                publisher_id=pub.publisher_id,
                instrument_id=record.instrument_id,
                sequence=record.sequence,
                source=self.source,
                symbol=symbol,
                underlying=underlying,
                open_interest=quantity,
            )
        ]

    # ---------------------------------------------------------------- control records

    def _on_symbol_mapping(self, record: dbn.SymbolMappingMsg) -> list[Event]:
        self.symbology.add_mapping_record(record)
        self.generation += 1
        self.counters["symbol_mappings"] += 1
        return []

    def _on_system(self, record: dbn.SystemMsg) -> list[Event]:
        ts = undef_ts(record.ts_event) or self._last_ts_recv
        if record.is_heartbeat():
            return [Heartbeat(ts_recv=ts, source=self.source)]
        self.counters["system_messages"] += 1
        return []

    def _on_error(self, record: dbn.ErrorMsg) -> list[Event]:
        return [self.quarantine(record, "gateway_error", str(record.err))]


def quote_problem(bid_px: int | None, ask_px: int | None, bid_sz: int, ask_sz: int) -> str | None:
    """The quarantine reason of a top-of-book quote, or None when it is usable.

    One-sided quotes are fine (options often have no bid); a book with neither side, a
    negative price or size, or a bid above the ask is not.
    """
    if bid_sz < 0 or ask_sz < 0:
        return "negative_size"
    if (bid_px is not None and bid_px < 0) or (ask_px is not None and ask_px < 0):
        return "negative_price"
    no_bid = bid_px is None or (bid_px == 0 and bid_sz == 0)
    no_ask = ask_px is None or (ask_px == 0 and ask_sz == 0)
    if no_bid and no_ask:
        return "empty_quote"
    if bid_px is not None and ask_px is not None and ask_px > 0 and bid_px > ask_px:
        return "crossed_quote"
    return None


def _multiplier(record: dbn.InstrumentDefMsg) -> int:
    if record.contract_multiplier not in (_UNDEF_I32, 0):
        return int(record.contract_multiplier)
    qty = undef_price(record.unit_of_measure_qty)
    if qty and qty % 1_000_000_000 == 0:
        return qty // 1_000_000_000
    return 100
