"""Who a Databento record is about: its publisher and its instrument, failing closed.

- Instrument kind comes from the record's publisher: `OPRA.*` is an equity option; CME
  (`GLBX.MDP3`) and other futures venues need a definition. On CME an outright future
  (`instrument_class` F) is a `FUTURE` and an option on one (C/P) a `FUTURE_OPTION` (their
  events are `schemas.cme`'s); on the other futures venues an option on a future is an
  option with the definition's `underlying` (e.g. `ESH1`). Anything else there (spreads,
  strategies) is `unsupported_instrument_class`; every other dataset is treated as
  equities, at the publisher's venue.
- The symbol is the file's (or live stream's) mapping for the record's UTC date, else the
  raw symbol of a definition seen for that instrument; with neither, the record is
  `unmapped_instrument` (never a guess). Files requested by parent or continuous symbol map
  ids to that request name, not to raw symbols, so for them the definitions are the only
  symbology. A definition whose raw symbol disagrees with that day's mapping is stale
  (instrument ids are reused across days) and is not used.
- An option's underlying is its definition's, else the root of its OCC symbol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import databento_dbn as dbn
from databento import Publisher as DatabentoPublisher

from ingest.databento.mappings import EPOCH, SymbolMappings
from schemas.occ import parse_occ

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
CME_DATASET = "GLBX.MDP3"

OPTION, EQUITY, DEFINED, UNSUPPORTED = "option", "equity", "defined", "unsupported"
FUTURE, FUTURE_OPTION = "future", "future_option"  # CME instruments (`schemas.cme`)
CME_KINDS = frozenset({FUTURE, FUTURE_OPTION})
UNMAPPED_INSTRUMENT = "unmapped_instrument"


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
    kind: str  # OPTION, EQUITY, FUTURE, FUTURE_OPTION or UNSUPPORTED
    instrument_class: str
    underlying: str


def contract_info(
    pub: Publisher, raw_symbol: str, instrument_class: str, underlying: str
) -> ContractInfo:
    """A definition's instrument: its kind on `pub`, and its underlying (the OCC root when
    the definition names none; empty when there is neither)."""
    is_option = instrument_class in ("C", "P")
    if pub.dataset == CME_DATASET:
        if instrument_class == "F":
            return ContractInfo(raw_symbol, FUTURE, instrument_class, "")
        kind = FUTURE_OPTION if is_option else UNSUPPORTED
        return ContractInfo(raw_symbol, kind, instrument_class, underlying if is_option else "")
    if pub.kind == OPTION or (pub.kind == DEFINED and is_option):
        kind = OPTION if is_option else UNSUPPORTED
    elif pub.kind == DEFINED:
        kind = UNSUPPORTED
    else:
        kind = pub.kind
    if kind == OPTION and not underlying:
        try:
            underlying = parse_occ(raw_symbol).root
        except ValueError:
            underlying = ""
    return ContractInfo(raw_symbol, kind, instrument_class, underlying)


# A market-data record's instrument, resolved: publisher, kind (OPTION, EQUITY, FUTURE or
# FUTURE_OPTION), symbol and the day's definition. A plain tuple: the record path resolves
# every record.
Instrument = tuple[Publisher, str, str, ContractInfo | None]


def underlying_of(symbol: str, contract: ContractInfo | None) -> str | None:
    """The definition's underlying, else the OCC root; None when the symbol is not OCC."""
    if contract is not None and contract.underlying:
        return contract.underlying
    try:
        return parse_occ(symbol).root
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Unresolved:
    """Why a record's instrument cannot be used: a quarantine reason and its detail."""

    reason: str
    detail: str = ""


def _unmapped(pub: Publisher, instrument_id: int, day: int) -> Unresolved:
    return Unresolved(
        UNMAPPED_INSTRUMENT,
        f"instrument_id={instrument_id} has no symbol mapping on "
        f"{EPOCH + timedelta(days=day)} (publisher {pub.name})",
    )


class Symbology:
    """instrument_id -> symbol by UTC date (DBN metadata, SymbolMappingMsg records) and the
    definitions seen, for one stream or session."""

    def __init__(self) -> None:
        self._map = SymbolMappings()
        self._symbols: dict[tuple[int, int], str | None] = {}
        self._definitions: dict[int, ContractInfo] = {}

    def add_metadata(self, metadata: dbn.Metadata) -> bool:
        """Take the mappings of a file's (or live session's) metadata; False if unusable.

        Parent (`AAPL.OPT`) and continuous (`ES.c.0`) requests map ids to the requested
        name, not to each instrument's raw symbol, so their mappings are not used: those
        instruments are named by their definitions (merge the `definition` file in).
        """
        if metadata.stype_in in (dbn.SType.PARENT, dbn.SType.CONTINUOUS):
            return False
        self._map.insert_metadata(metadata)
        self._symbols.clear()
        return True

    def add_mapping_record(self, record: dbn.SymbolMappingMsg) -> None:
        """Take a live SymbolMappingMsg."""
        self._map.insert_record(record)
        self._symbols.clear()

    def define(self, instrument_id: int, contract: ContractInfo) -> None:
        """Take a definition (the newest one of an instrument wins)."""
        self._definitions[instrument_id] = contract

    def forget(self, instrument_id: int) -> None:
        """Drop an instrument's definition (a deleted definition)."""
        self._definitions.pop(instrument_id, None)

    def _mapped_symbol(self, instrument_id: int, day: int) -> str | None:
        symbol = self._map.resolve(instrument_id, day) or None
        self._symbols[instrument_id, day] = symbol
        return symbol

    def _day_symbol(self, instrument_id: int, day: int) -> str | None:
        try:
            return self._symbols[instrument_id, day]
        except KeyError:
            return self._mapped_symbol(instrument_id, day)

    def name(
        self, publisher_id: int, instrument_id: int, day: int
    ) -> tuple[Publisher, str] | Unresolved:
        """The publisher and symbol of a record of any instrument class (order books are kept
        for futures and spreads too), or why not: the day's mapping, else a definition."""
        pub = _PUBLISHERS.get(publisher_id) or publisher_info(publisher_id)
        if pub is None:
            return Unresolved("unknown_publisher")
        symbol = self._day_symbol(instrument_id, day)
        if symbol is None:
            contract = self._definitions.get(instrument_id)
            if contract is None:
                return _unmapped(pub, instrument_id, day)
            symbol = contract.symbol
        return pub, symbol

    def resolve(self, publisher_id: int, instrument_id: int, day: int) -> Instrument | Unresolved:
        """The instrument a record of `publisher_id` on UTC day `day` is about, or why not."""
        # Known publishers without a call: every record of the record path comes through here.
        pub = _PUBLISHERS.get(publisher_id) or publisher_info(publisher_id)
        if pub is None:
            return Unresolved("unknown_publisher")
        try:
            symbol = self._symbols[instrument_id, day]
        except KeyError:
            symbol = self._mapped_symbol(instrument_id, day)
        contract = self._definitions.get(instrument_id)
        if contract is not None and symbol is not None and contract.symbol != symbol:
            contract = None  # a definition from another day: instrument ids are reused
        if symbol is None:
            if contract is None:
                return _unmapped(pub, instrument_id, day)
            symbol = contract.symbol
        kind = pub.kind
        if kind == DEFINED:
            if contract is None:
                return Unresolved(
                    "missing_definition",
                    f"{pub.dataset} instrument {symbol!r} needs a definition to be classified",
                )
            kind = contract.kind
        if kind == UNSUPPORTED:
            cls = contract.instrument_class if contract else "?"
            return Unresolved(
                "unsupported_instrument_class",
                f"{symbol!r} on {pub.name} has instrument class {cls!r}",
            )
        return pub, kind, symbol, contract
