"""A Parquet recording (`flowtape record`) as a replay source, and replayed into the engines."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

from compute.candles import BufferConfig, Market
from infra.recording import read_events
from schemas.events import Event


def parquet_events(root: Path, *, dates: Iterable[str] | None = None) -> Iterator[Event]:
    """The recorded raw events (trades, quotes, depth) in the order the log held them."""
    return read_events(root, dates=dates)


def replay_recording(
    root: Path, config: BufferConfig, *, dates: Iterable[str] | None = None
) -> Market:
    """Feed a recording to the candle and book engines, as the daemon fed them live."""
    market = Market(config)
    market.apply(parquet_events(root, dates=dates))
    return market
