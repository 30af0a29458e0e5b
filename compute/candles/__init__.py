"""Trade ring buffers and candles per venue and symbol: `step(state, trades) -> (state, closed)`.

Pure and batch-invariant: a candle closes when the first trade of a later bucket arrives, so
how the trades are split into batches never changes what is emitted or kept.
"""

from compute.candles.buffers import ClosedCandle, MarketBuffers, step
from compute.candles.config import BufferConfig
from compute.candles.intervals import interval_ns
from compute.candles.market import Changes, Market
from compute.candles.top_of_book import QuoteBooks
from compute.candles.trades import aggressor_of, trade_of

__all__ = [
    "BufferConfig",
    "Changes",
    "ClosedCandle",
    "Market",
    "MarketBuffers",
    "QuoteBooks",
    "aggressor_of",
    "interval_ns",
    "step",
    "trade_of",
]
