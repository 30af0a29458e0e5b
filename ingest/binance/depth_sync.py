"""Binance's rules for a local book from a REST snapshot and the diff stream, per symbol.

Spot: buffer diffs, fetch a snapshot (`lastUpdateId` L), drop diffs with `u <= L`; the
first applied diff has `U <= L + 1 <= u`; after it each `U` is the previous `u + 1`.
USDⓈ-M futures: drop `u < L`; the first has `U <= L <= u`; after it each `pu` is the
previous `u`. A snapshot older than the first buffered diff is fetched again. A break in
the chain is a `sequence_gap` (the ids the venue skipped), after which the symbol waits for
a new snapshot. After a reconnect the next snapshot reports the ids between the last diff
applied and the snapshot as a `reconnect` gap (the snapshot covers them).

Diffs buffered while the snapshot was fetched are published at the snapshot's receive
time, so the log never shows a diff before the book it continues.

`DepthSync` only decides; the adapter fetches snapshots when `needs_snapshot` is set.
"""

from __future__ import annotations

from enum import Enum

import msgspec

from ingest.marketdata.normaliser import book_gap
from schemas.crypto import BookUpdate
from schemas.events import Event

MAX_BUFFERED = 10_000
WHAT = "depth update ids"


class _State(Enum):
    WAIT_SNAPSHOT = 1
    BRIDGING = 2
    SYNCED = 3


class DepthSync:
    """Diffs and snapshots of one symbol in, the events that continue its book out."""

    def __init__(self, futures: bool) -> None:
        self.futures = futures
        self._state = _State.WAIT_SNAPSHOT
        self._snapshot_id = 0
        self._last_u: int | None = None  # the last update id the published book reached
        self._buffer: list[BookUpdate] = []
        self._reconnected = False
        self.stale_dropped = 0
        self.gaps = 0

    @property
    def needs_snapshot(self) -> bool:
        return self._state is _State.WAIT_SNAPSHOT

    def reconnected(self) -> None:
        """The stream was re-subscribed: start over from a new snapshot."""
        self._state = _State.WAIT_SNAPSHOT
        self._buffer.clear()
        self._reconnected = True

    def on_diff(self, diff: BookUpdate) -> list[Event]:
        if self._state is _State.WAIT_SNAPSHOT:
            self._buffer.append(diff)
            if len(self._buffer) > MAX_BUFFERED:
                self._buffer.pop(0)
            return []
        if self._state is _State.BRIDGING:
            return self._bridge(diff)
        return self._continue(diff)

    def on_snapshot(self, snapshot: BookUpdate) -> list[Event]:
        """A fetched snapshot; returns [] and keeps waiting when it is too old."""
        last = snapshot.sequence
        pending = [d for d in self._buffer if not self._is_stale(d, last)]
        if pending and not self._bridges(pending[0], last):
            return []  # older than the buffered stream: fetch again
        out: list[Event] = []
        if self._reconnected and self._last_u is not None and last > self._last_u:
            out.append(book_gap(snapshot, "reconnect", self._last_u + 1, last, WHAT))
        self._reconnected = False
        out.append(snapshot)
        self._buffer.clear()
        self._snapshot_id = last
        self._last_u = last
        self._state = _State.BRIDGING
        for diff in pending:
            released = msgspec.structs.replace(diff, ts_recv=max(diff.ts_recv, snapshot.ts_recv))
            out.extend(self.on_diff(released))
        return out

    def _is_stale(self, diff: BookUpdate, last: int) -> bool:
        return diff.sequence < last if self.futures else diff.sequence <= last

    def _bridges(self, diff: BookUpdate, last: int) -> bool:
        target = last if self.futures else last + 1
        return diff.first_update_id <= target <= diff.sequence

    def _bridge(self, diff: BookUpdate) -> list[Event]:
        if self._is_stale(diff, self._snapshot_id):
            self.stale_dropped += 1
            return []
        if self._bridges(diff, self._snapshot_id):
            self._state = _State.SYNCED
            self._last_u = diff.sequence
            return [diff]
        return self._break(diff)

    def _continue(self, diff: BookUpdate) -> list[Event]:
        last = self._last_u
        assert last is not None  # noqa: S101  (set when the book was synchronised)
        if diff.sequence <= last:
            self.stale_dropped += 1  # a repeat of what the book already holds
            return []
        chained = diff.prev_update_id == last if self.futures else diff.first_update_id == last + 1
        if chained:
            self._last_u = diff.sequence
            return [diff]
        return self._break(diff)

    def _break(self, diff: BookUpdate) -> list[Event]:
        last = self._last_u if self._last_u is not None else self._snapshot_id
        missed_to = (
            diff.prev_update_id
            if self.futures and diff.prev_update_id is not None
            else diff.first_update_id - 1
        )
        self.gaps += 1
        self._state = _State.WAIT_SNAPSHOT
        self._buffer = [diff]
        return [book_gap(diff, "sequence_gap", last + 1, max(missed_to, last + 1), WHAT)]
