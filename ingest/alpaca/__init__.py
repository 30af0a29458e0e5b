"""Alpaca sources: options (alpaca-py: bounded contract selection, trades and NBBO quotes)
and stocks (stocks.py: trades and quotes from the market-data WebSocket, or a dry run
without keys).

    source = AlpacaOptionSource(AlpacaOptionsConfig(underlyings=["AAPL", "SPY"]))
    await source.connect()          # keys from ALPACA_API_KEY / ALPACA_SECRET_KEY
    async for event in source.events():
        ...

`AlpacaNormaliser` (parsing.py) turns the raw message dicts alpaca-py hands its handlers
into events; its docstring lists the decisions (publisher_id 0, NBBO quotes, coarse
indicative prints). Alpaca is a live-only source: replays read Databento files.
"""

from ingest.alpaca.adapter import AlpacaOptionSource
from ingest.alpaca.config import AlpacaOptionsConfig
from ingest.alpaca.parsing import (
    ALPACA_PUBLISHER_ID,
    AlpacaNormaliser,
    ContractRef,
    select_contracts,
)
from ingest.alpaca.stock_config import AlpacaStocksConfig
from ingest.alpaca.stocks import AlpacaStockDryRun, AlpacaStockSource, build_stock_source

__all__ = [
    "ALPACA_PUBLISHER_ID",
    "AlpacaNormaliser",
    "AlpacaOptionSource",
    "AlpacaOptionsConfig",
    "AlpacaStockDryRun",
    "AlpacaStockSource",
    "AlpacaStocksConfig",
    "ContractRef",
    "build_stock_source",
    "select_contracts",
]
