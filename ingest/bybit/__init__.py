"""Bybit V5 public market data (linear perpetuals and spot); no key needed.

`BybitSource` (adapter.py) is the provider, `BybitNormaliser` (parsing.py) turns frames into
events, `BybitBookSync` (book_sync.py) keeps the order-book stream continuous.
"""

from ingest.bybit.adapter import BybitSource
from ingest.bybit.config import BybitConfig
from ingest.bybit.parsing import BybitNormaliser

__all__ = ["BybitConfig", "BybitNormaliser", "BybitSource"]
