"""A Parquet recording (`flowtape record`) as a replay source, and replayed into the engines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from compute.candles import BufferConfig, MarketBuffers, QuoteBooks, trade_of
from infra.recording import read_events
from schemas.events import Event


def parquet_events(root: Path, *, dates: Iterable[str] | None = None) -> Iterator[Event]:
    """The recorded raw events (trades, quotes, depth) in the order the log held them."""
    return read_events(root, dates=dates)


@dataclass
class ReplayedMarket:
    """Candles, trade rings and books rebuilt from a recording."""

    buffers: MarketBuffers
    books: QuoteBooks
    events: int


def replay_recording(
    root: Path, config: BufferConfig, *, dates: Iterable[str] | None = None
) -> ReplayedMarket:
    """Feed a recording to the candle and book engines, as the daemon fed them live."""
    market = ReplayedMarket(MarketBuffers(config), QuoteBooks(), 0)
    for event in parquet_events(root, dates=dates):
        market.events += 1
        trade = trade_of(event)
        if trade is not None:
            market.buffers.apply(trade)
        else:
            market.books.apply(event)
    return market
