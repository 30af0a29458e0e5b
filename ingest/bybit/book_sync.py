"""Bybit's rules for an order book from `orderbook.<depth>` frames, per symbol.

A `snapshot` replaces the book (also mid-stream, and whenever `u` restarts at 1); each
`delta` has `u` = the previous `u` + 1. A break is a `sequence_gap` naming the skipped ids;
deltas are then held back until a new snapshot, which the adapter asks for by subscribing
the topic again (`needs_resubscribe`). After a reconnect the first snapshot reports the
ids it jumped over as a `reconnect` gap.
"""

from __future__ import annotations

from ingest.marketdata.normaliser import book_gap
from schemas.crypto import BookUpdate
from schemas.events import Event

WHAT = "orderbook update ids"


class BybitBookSync:
    """Book frames of one symbol in, the events that continue its book out."""

    def __init__(self) -> None:
        self._last_u: int | None = None
        self._synced = False
        self._reconnected = False
        self.needs_resubscribe = False
        self.held_back = 0  # deltas after a gap, before the next snapshot
        self.repeats = 0

    def reconnected(self) -> None:
        self._synced = False
        self._reconnected = True

    def on_book(self, update: BookUpdate) -> list[Event]:
        if update.snapshot:
            return self._snapshot(update)
        if not self._synced:
            self.held_back += 1
            return []
        last = self._last_u
        assert last is not None  # noqa: S101  (a snapshot set it)
        if update.sequence <= last:
            self.repeats += 1
            return []
        if update.sequence != last + 1:
            self._synced = False
            self.needs_resubscribe = True
            self.held_back += 1
            return [book_gap(update, "sequence_gap", last + 1, update.sequence - 1, WHAT)]
        self._last_u = update.sequence
        return [update]

    def _snapshot(self, snapshot: BookUpdate) -> list[Event]:
        out: list[Event] = []
        last = self._last_u
        if self._reconnected and last is not None and snapshot.sequence > last + 1:
            out.append(book_gap(snapshot, "reconnect", last + 1, snapshot.sequence - 1, WHAT))
        self._reconnected = False
        self._synced = True
        self.needs_resubscribe = False
        self._last_u = snapshot.sequence
        out.append(snapshot)
        return out
