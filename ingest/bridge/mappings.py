"""Each source's own mapping from its id space to flowtape's canonical instruments.

An id space says what identifies an instrument in a source's events and what a source
knows of it:
- `databento` (Databento files, historical and live, and the synthetic market): an
  `instrument_id` is only unique within a UTC day, so the id is (instrument_id, day),
  written `1234@2026-01-05`; the source's mapping is its symbology (`databento_ids.py`).
- `occ` (Alpaca and IBKR options): the contract's padded OCC symbol; the source's mapping
  is the set of contracts it subscribed (Alpaca's selection, IBKR's configured contracts).
- `ticker` (Alpaca stocks): the ticker; the source's mapping is its configured tickers.
- `venue` (Binance, Bybit): the venue and its own symbol, written `binance-spot:BTCUSDT`;
  the source's mapping is its symbology table (`BTC-USDT`, `BTC-USDT-PERP`).
- `symbol` (in-memory recordings and sources that declare nothing else): the symbol the
  event was recorded with; only an empty symbol is unmapped.
A source may declare its own (`ingest.source.IdMappedSource`).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Hashable, Iterable
from operator import attrgetter
from typing import Any, Protocol

from ingest.source import IdMappedSource
from schemas.events import MarketEvent


class SourceMapping(Protocol):
    """What a source knows of its ids, as the bridge asks it."""

    id_space: str
    # The id of an event: called on every event, so a plain function (attrgetter if it can).
    key: Callable[[MarketEvent], Hashable]

    def parse_id(self, text: str) -> Hashable:
        """An id as an operator writes it (overrides file); ValueError when malformed."""
        ...

    def describe(self, key: Hashable) -> str:
        """The id as an operator writes it."""
        ...

    def resolve(self, key: Hashable, event: Any | None) -> str | None:
        """The canonical symbol the source gives the id, or None when it knows none."""
        ...


class ContractSetMapping:
    """A symbol (OCC, ticker) is mapped when it is among those the source subscribed."""

    def __init__(self, contracts: Callable[[], Iterable[str]], id_space: str = "occ") -> None:
        self.id_space = id_space
        self.key: Callable[[MarketEvent], Hashable] = attrgetter("symbol")
        self._contracts = contracts  # read again on each miss: a source selects on connect

    def parse_id(self, text: str) -> str:
        return text

    def describe(self, key: Hashable) -> str:
        return str(key)

    def resolve(self, key: Hashable, event: Any | None) -> str | None:
        return key if isinstance(key, str) and key in set(self._contracts()) else None


class VenueSymbolMapping:
    """(venue, venue symbol) -> the canonical symbol the source's symbology table lists."""

    id_space = "venue"

    def __init__(self, table: Any) -> None:
        self.key: Callable[[MarketEvent], Hashable] = attrgetter("venue", "venue_symbol")
        self.table = table  # ingest.marketdata.symbology.SymbolTable

    def parse_id(self, text: str) -> tuple[str, str]:
        venue, _, venue_symbol = text.partition(":")
        if not venue or not venue_symbol:
            raise ValueError(f"expected venue:SYMBOL like 'binance-spot:BTCUSDT', got {text!r}")
        return venue, venue_symbol

    def describe(self, key: Hashable) -> str:
        assert isinstance(key, tuple)  # noqa: S101  (keys come from key() or parse_id())
        return ":".join(key)

    def resolve(self, key: Hashable, event: Any | None) -> str | None:
        assert isinstance(key, tuple)  # noqa: S101
        found = self.table.lookup(*key)
        return None if found is None else str(found.symbol)


class SymbolMapping:
    """The event's own symbol is its id (recordings named when recorded); empty is unmapped."""

    id_space = "symbol"

    def __init__(self) -> None:
        self.key: Callable[[MarketEvent], Hashable] = attrgetter("symbol")

    def parse_id(self, text: str) -> str:
        return text

    def describe(self, key: Hashable) -> str:
        return str(key)

    def resolve(self, key: Hashable, event: Any | None) -> str | None:
        return key if isinstance(key, str) and key else None


def _loaded_class(module: str, name: str) -> Any:
    """The class `name` of `module` if that module is loaded, else None."""
    loaded = sys.modules.get(module)
    found = getattr(loaded, name, None)
    return found if isinstance(found, type) else None


def mapping_for(source: object) -> SourceMapping:
    """The mapping `source` declares, else the one its kind of source has."""
    if isinstance(source, IdMappedSource):
        return source.id_mapping()
    # A source of each kind below is an instance of a class whose module is loaded already:
    # looking the classes up there keeps the source packages (databento, pandas, alpaca-py)
    # out of the services that run none of them (live compute, replay over recordings).
    normaliser: Any = getattr(source, "normaliser", None)
    record_normaliser = _loaded_class("ingest.databento.parsing", "RecordNormaliser")
    if record_normaliser is not None and isinstance(normaliser, record_normaliser):
        from ingest.bridge.databento_ids import DatabentoDayMapping

        return DatabentoDayMapping(normaliser.symbology)
    stocks = _loaded_class("ingest.alpaca.stocks", "AlpacaStockSource")
    if stocks is not None and isinstance(source, stocks):
        return ContractSetMapping(lambda: source.config.symbols, id_space="ticker")
    provider = _loaded_class("ingest.marketdata.provider", "WebSocketProvider")
    if provider is not None and isinstance(source, provider):
        return VenueSymbolMapping(source.table)
    alpaca = _loaded_class("ingest.alpaca.adapter", "AlpacaOptionSource")
    if alpaca is not None and isinstance(source, alpaca):
        return ContractSetMapping(lambda: (contract.symbol for contract in source.contracts))
    ibkr = _loaded_class("ingest.ibkr.adapter", "IbkrOptionSource")
    if ibkr is not None and isinstance(source, ibkr):
        return ContractSetMapping(lambda: source.config.contracts)
    return SymbolMapping()
