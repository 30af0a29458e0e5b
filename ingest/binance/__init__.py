"""Binance public market data: spot and USDⓈ-M futures over combined WebSocket streams.

`BinanceSource` (adapter.py) is the provider; `BinanceNormaliser` (parsing.py) turns frames
and REST depth snapshots into events; `DepthSync` (depth_sync.py) applies Binance's rules
for keeping a book in step with its snapshot.
"""

from ingest.binance.adapter import BinanceSource
from ingest.binance.config import BinanceConfig
from ingest.binance.parsing import BinanceNormaliser

__all__ = ["BinanceConfig", "BinanceNormaliser", "BinanceSource"]
