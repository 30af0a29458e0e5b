"""`step(state, batch) -> (state, outputs)` for crypto features and signals. Pure.

The batch is in canonical order (schemas.ordering). Each event moves its symbol's state;
then, at most once per `emit_interval_ns` of event time, the symbol's features come out
with any signals they fire. `finish` emits every symbol whose state moved since its last
emission. Only the event sequence decides what comes out and when, so any split of the
input into batches gives the same outputs.
"""

from __future__ import annotations

from collections.abc import Sequence

from compute.features.features import compute_features
from compute.features.signals import evaluate_signals
from compute.features.state import FeaturesState, SymbolState
from compute.features.window import add_trade, apply_book, expire, set_mark, set_quote
from schemas.crypto import BookUpdate, CryptoMarketEvent, CryptoQuote, CryptoTrade, MarkPrice
from schemas.events import Event


def _apply(symbol: SymbolState, event: CryptoMarketEvent) -> None:
    if isinstance(event, CryptoTrade):
        add_trade(symbol, event)
    elif isinstance(event, CryptoQuote):
        set_quote(symbol, event)
    elif isinstance(event, BookUpdate):
        apply_book(symbol, event)
    elif isinstance(event, MarkPrice):
        set_mark(symbol, event)


def _emit(state: FeaturesState, name: str, symbol: SymbolState, now: int) -> list[Event]:
    expire(symbol, now, state.config.window_ns)
    features = compute_features(name, symbol, now, state.config, state.run_id)
    symbol.last_emit_ts = now
    return [features, *evaluate_signals(features, symbol, state.config)]


def step(state: FeaturesState, batch: Sequence[Event]) -> tuple[FeaturesState, list[Event]]:
    out: list[Event] = []
    interval = state.config.emit_interval_ns
    for event in batch:
        if not isinstance(event, CryptoMarketEvent):
            continue  # provider health and other records carry no market state
        symbol = state.symbols.get(event.symbol)
        if symbol is None:
            symbol = state.symbols[event.symbol] = SymbolState()
        _apply(symbol, event)
        now = max(event.ts_recv, symbol.last_ts)
        symbol.last_ts = now
        expire(symbol, now, state.config.window_ns)
        if symbol.last_emit_ts is None or now - symbol.last_emit_ts >= interval:
            out.extend(_emit(state, event.symbol, symbol, now))
    return state, out


def finish(state: FeaturesState) -> tuple[FeaturesState, list[Event]]:
    """The last features of every symbol that moved since it last emitted."""
    out: list[Event] = []
    for name in sorted(state.symbols):
        symbol = state.symbols[name]
        if symbol.last_emit_ts is None or symbol.last_ts > symbol.last_emit_ts:
            out.extend(_emit(state, name, symbol, symbol.last_ts))
    return state, out
