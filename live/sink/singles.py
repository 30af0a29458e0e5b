"""Lone singles the sink holds back until a hit or an alert names one.

A FlowPacket gets a stored row only when worth one (`schemas.derived_tables.packet_gets_row`),
and a lone single is worth one when a classifier flagged it. The compute service publishes a
batch's outputs as one message per event type, packets before the hits and alerts raised on
them, so the message of a packet does not tell whether it was flagged: the sink holds the
singles of the last `HOLD_MESSAGES` messages, and a later hit or alert naming one stores it,
with the log_seq of that message (so the exactly-once rule holds per table partition).
After a restart the sink reads the `HOLD_MESSAGES` messages before its checkpoint again, only
to refill what it held (their rows are stored).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence

from schemas.derived_tables import packet_gets_row
from schemas.events import Alert, ClassifierHit, Event, FlowPacket

# One compute batch is at most one message per derived event type; this covers several
# compute services' batches interleaved on the stream.
HOLD_MESSAGES = 64


class HeldSingles:
    """The unflagged lone singles of recent messages, by message sequence."""

    def __init__(self, window: int = HOLD_MESSAGES) -> None:
        self.window = window
        self._held: deque[tuple[int, dict[str, FlowPacket]]] = deque()

    def hold(self, seq: int, events: Sequence[Event]) -> None:
        """Keep the packets of message `seq` that get no row unless flagged."""
        singles = {
            e.packet_id: e
            for e in events
            if isinstance(e, FlowPacket) and not packet_gets_row(e.kind, e.n_prints, False)
        }
        self._forget_before(seq - self.window)
        if singles:
            self._held.append((seq, singles))

    def claim(self, seq: int, events: Sequence[Event]) -> list[FlowPacket]:
        """The held singles that the hits and alerts of message `seq` name (no longer held)."""
        self._forget_before(seq - self.window)
        named = {e.packet_id for e in events if isinstance(e, ClassifierHit | Alert)}
        claimed: list[FlowPacket] = []
        for _, singles in self._held:
            for packet_id in named & singles.keys():
                claimed.append(singles.pop(packet_id))
        return claimed

    def _forget_before(self, seq: int) -> None:
        while self._held and self._held[0][0] < seq:
            self._held.popleft()
