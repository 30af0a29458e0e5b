"""Alpaca options source (alpaca-py): bounded contract selection, trades and NBBO quotes.

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

__all__ = [
    "ALPACA_PUBLISHER_ID",
    "AlpacaNormaliser",
    "AlpacaOptionSource",
    "AlpacaOptionsConfig",
    "ContractRef",
    "select_contracts",
]
