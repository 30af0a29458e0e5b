"""The fail-closed symbology of Alpaca stock tickers.

A ticker is known only when listed (the subscription's symbols): `AAPL` and `BRK.B` are
kept as Alpaca writes them, anything not shaped like a ticker (`aapl`, `BTC/USD`) refuses
to start, and a message for an unlisted ticker is refused, counted and quarantined.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ingest.alpaca.parsing import ALPACA_PUBLISHER_ID
from ingest.marketdata.symbology import Instrument, SymbolTable, UnknownSymbol, instrument_id

_TICKER = re.compile(r"^[A-Z]{1,5}(\.[A-Z]{1,2})?$")


class StockSymbolTable(SymbolTable):
    """The listed tickers of one Alpaca stock feed (`venue`, e.g. `alpaca-iex`)."""

    def __init__(self, venue: str, tickers: Iterable[str]) -> None:
        super().__init__(())
        for ticker in tickers:
            if not _TICKER.match(ticker):
                raise UnknownSymbol(
                    f"{venue} symbol {ticker!r} is not a stock ticker like 'AAPL' or 'BRK.B'"
                )
            self._by_key[(venue, ticker)] = Instrument(
                venue, ticker, ticker, instrument_id(ticker), ALPACA_PUBLISHER_ID
            )
