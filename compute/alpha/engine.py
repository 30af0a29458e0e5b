"""The alpha engine: `step(state, batch) -> (state, frames)` and `finish(state)`.

Caller contract: raw events in canonical order (`schemas.ordering`). `step` updates the
state it is given in place and returns that same object; a caller that needs an earlier
state keeps `encode_state(state)` bytes.

Event time is the largest `ts_recv` among the events the engine reads: every CME raw event
(`CmeInstrument`, `CmeQuote`, `CmeTrade`, `CmeStatistic`), the MBP-10 events of served
futures and the `MarkPrice` of a configured perpetual; anything else is counted
(`ignored:<type>`) and neither moves the clock nor the state. The frames of a root are due
at each whole multiple of `emit_ms`: when an event's `ts_recv` reaches one or more due
boundaries, their frames are built from the state as it was before that event, so a frame
at `t` holds exactly the events received before `t`. The first event starts the clock (the
first frame is at the next boundary); a gap longer than `max_gap_frames` boundaries emits
its first `max_gap_frames` and counts the rest (`skipped_frames`). Only the event sequence
decides what comes out and when, so any split of the input into batches gives the same
frames, byte for byte.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from compute.alpha.frames import build_frames
from compute.alpha.market import add_trade, apply_depth, future_row, set_funding, set_quote
from compute.alpha.registry import define
from compute.alpha.state import NULL, AlphaState, bump
from schemas.book import Mbp10Event
from schemas.cme import CmeInstrument, CmeQuote, CmeStatistic, CmeTrade
from schemas.crypto import MarkPrice
from schemas.events import Event


def step(state: AlphaState, batch: Sequence[Event]) -> tuple[AlphaState, list[Event]]:
    """Apply `batch` to `state`; the frames of every boundary its events reached."""
    out: list[Event] = []
    for event in batch:
        handler = _HANDLERS.get(type(event))
        if handler is None:
            bump(state, f"ignored:{type(event).__name__}")
        else:
            handler(state, event, out)
    return state, out


def finish(state: AlphaState) -> tuple[AlphaState, list[Event]]:
    """End of session: the frames at the next boundary, holding every event received (what
    the next event would have brought out); nothing before the first event."""
    if state.next_emit == NULL:
        return state, []
    frames: list[Event] = list(build_frames(state, state.next_emit))
    state.next_emit += state.config.emit_ns
    return state, frames


def _advance(state: AlphaState, ts: int, out: list[Event]) -> int:
    """Emit the frames due before an event received at `ts`; the engine's clock after it."""
    emit = state.config.emit_ns
    if state.next_emit == NULL:
        state.next_emit = (ts // emit + 1) * emit
        state.clock = ts
        return ts
    if ts >= state.next_emit:
        boundary, emitted = state.next_emit, 0
        while boundary <= ts and emitted < state.config.max_gap_frames:
            out.extend(build_frames(state, boundary))
            boundary += emit
            emitted += 1
        if boundary <= ts:
            last = ts // emit * emit
            bump(state, "skipped_frames", (last - boundary) // emit + 1)
            boundary = last + emit
        state.next_emit = boundary
    if ts > state.clock:
        state.clock = ts
    return state.clock


def _on_instrument(state: AlphaState, event: CmeInstrument, out: list[Event]) -> None:
    _advance(state, event.ts_recv, out)
    define(state, event)


def _on_quote(state: AlphaState, event: CmeQuote, out: list[Event]) -> None:
    set_quote(state, event, _advance(state, event.ts_recv, out))


def _on_trade(state: AlphaState, event: CmeTrade, out: list[Event]) -> None:
    add_trade(state, event, _advance(state, event.ts_recv, out))


def _on_statistic(state: AlphaState, event: CmeStatistic, out: list[Event]) -> None:
    # Settlements and open interest keep the clock; no figure of the frame reads them.
    _advance(state, event.ts_recv, out)
    bump(state, "statistics")


def _on_depth(state: AlphaState, event: Mbp10Event, out: list[Event]) -> None:
    row = future_row(state, event.instrument_id)
    if row is None:
        bump(state, "ignored:mbp10_not_served")
        return
    apply_depth(state, row, event, _advance(state, event.ts_recv, out))


def _on_mark_price(state: AlphaState, event: MarkPrice, out: list[Event]) -> None:
    if event.symbol not in state.config.funding_symbols.values():
        bump(state, "ignored:mark_price_not_served")
        return
    _advance(state, event.ts_recv, out)
    set_funding(state, event)


_HANDLERS: dict[type[Event], Callable[[AlphaState, Any, list[Event]], None]] = {
    CmeInstrument: _on_instrument,
    CmeQuote: _on_quote,
    CmeTrade: _on_trade,
    CmeStatistic: _on_statistic,
    Mbp10Event: _on_depth,
    MarkPrice: _on_mark_price,
}
