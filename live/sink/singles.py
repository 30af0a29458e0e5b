"""Lone singles the sink holds back until a hit or an alert names one.

A FlowPacket gets a stored row only when worth one (`schemas.derived_tables.packet_gets_row`),
and a lone single is worth one when a classifier flagged it. The compute service publishes a
batch's outputs as one message per event type, packets before the hits and alerts raised on
them, so the message of a packet does not tell whether it was flagged: the sink holds the
singles of a producer's last `HOLD_MESSAGES` messages, and a later hit or alert naming one
stores it, with the log_seq of that message (so the exactly-once rule holds per table
partition).

A producer is a run id and the message's `Flowtape-Producer` header (a compute partition,
say), so other producers' messages never push its singles out: a partition restarted between
its packets and its hits still finds them held. Every producer's singles are also forgotten
`HOLD_STREAM_MESSAGES` stream sequences on, which bounds what is held, and what a restarted
sink reads again before its checkpoint, only to refill what it held (their rows are stored).
Both rules look only at messages after the one holding a single, so that re-read restores
exactly what was held.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field

from schemas.derived_tables import packet_gets_row
from schemas.events import Alert, ClassifierHit, Event, FlowPacket

# One compute batch is at most one message per derived event type: a producer's batches
# rarely sit further apart than this in its own messages.
HOLD_MESSAGES = 64
# How far back in the whole stream a single is still held, whatever its producer: covers a
# partition down while the other producers publish this many messages.
HOLD_STREAM_MESSAGES = 64 * HOLD_MESSAGES

Producer = tuple[str, str]  # the run id, the producer header ("" when a message has none)


@dataclass
class _Held:
    """One producer's messages seen so far and the singles of its recent ones."""

    count: int = 0
    singles: deque[tuple[int, int, dict[str, FlowPacket]]] = field(default_factory=deque)
    # (the message's number among the producer's, its stream sequence, its singles)


class HeldSingles:
    """The unflagged lone singles of recent messages, per producer."""

    def __init__(
        self, window: int = HOLD_MESSAGES, stream_window: int = HOLD_STREAM_MESSAGES
    ) -> None:
        self.window = window
        self.stream_window = stream_window
        self._producers: dict[Producer, _Held] = {}

    def hold(self, seq: int, events: Sequence[Event], producer: Producer = ("", "")) -> None:
        """Count message `seq` as `producer`'s and keep its packets that get no row unless
        flagged. Call it for every message of the stream, in order (even one without
        events), so a producer's window counts all of its messages."""
        self._forget_before(seq - self.stream_window)
        held = self._producers.setdefault(producer, _Held())
        held.count += 1
        while held.singles and held.singles[0][0] < held.count - self.window:
            held.singles.popleft()
        singles = {
            e.packet_id: e
            for e in events
            if isinstance(e, FlowPacket) and not packet_gets_row(e.kind, e.n_prints, False)
        }
        if singles:
            held.singles.append((held.count, seq, singles))

    def claim(self, seq: int, events: Sequence[Event]) -> list[FlowPacket]:
        """The held singles, of any producer, that the hits and alerts of message `seq`
        name (no longer held)."""
        self._forget_before(seq - self.stream_window)
        named = {e.packet_id for e in events if isinstance(e, ClassifierHit | Alert)}
        if not named:
            return []
        claimed: list[tuple[int, FlowPacket]] = []
        for held in self._producers.values():
            for _, held_seq, singles in held.singles:
                for packet_id in [p for p in singles if p in named]:  # in published order
                    claimed.append((held_seq, singles.pop(packet_id)))
        claimed.sort(key=lambda item: item[0])  # stream order, whoever produced them
        return [packet for _, packet in claimed]

    def _forget_before(self, seq: int) -> None:
        for producer, held in list(self._producers.items()):
            while held.singles and held.singles[0][1] < seq:
                held.singles.popleft()
            if not held.singles:
                # a producer holding nothing needs no count: its next message starts afresh
                del self._producers[producer]
