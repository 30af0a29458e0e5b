"""The live engine's reorder buffer: restores the canonical order of raw events.

Events wait until the watermark `max(ts_recv seen) - allowed_lateness` passes them, then leave
in canonical order. An event that arrives at or behind the watermark leaves at once: it is
late, and the engine flags what it derives from it (closed output is never rewritten).
Everything here depends only on the events and their arrival order, so a restored buffer
continues exactly as the original would have.
"""

from __future__ import annotations

import heapq

import msgspec

from schemas.codec import decode_batch, encode_batch
from schemas.events import Event
from schemas.ordering import CanonicalKey, canonical_key


class ReorderSnapshot(msgspec.Struct, frozen=True):
    max_ts_recv: int
    watermark: int
    pending: bytes
    late: int


class ReorderBuffer:
    """Holds raw events until their canonical position is certain."""

    def __init__(self, allowed_lateness_ns: int) -> None:
        if allowed_lateness_ns < 0:
            raise ValueError(f"allowed lateness must be >= 0 ns, got {allowed_lateness_ns}")
        self.allowed_lateness_ns = allowed_lateness_ns
        self.max_ts_recv = -1
        self.watermark = -1
        self.late = 0
        self._heap: list[tuple[CanonicalKey, Event]] = []

    def __len__(self) -> int:
        return len(self._heap)

    def push(self, event: Event, key: CanonicalKey | None = None) -> list[Event]:
        """Accept one event (`key`: its canonical key, when the caller has it already);
        returns the events it releases, in canonical order."""
        ts_recv = event.ts_recv
        if ts_recv <= self.watermark:
            self.late += 1
            return [event]
        heapq.heappush(self._heap, (key or canonical_key(event), event))
        if ts_recv > self.max_ts_recv:
            self.max_ts_recv = ts_recv
            self.watermark = max(self.watermark, ts_recv - self.allowed_lateness_ns)
        released: list[Event] = []
        while self._heap and self._heap[0][0][0] <= self.watermark:
            released.append(heapq.heappop(self._heap)[1])
        return released

    def flush(self) -> list[Event]:
        """Everything still waiting, in canonical order (end of session)."""
        released = [event for _, event in sorted(self._heap, key=lambda item: item[0])]
        self._heap.clear()
        if released:
            self.watermark = max(self.watermark, self.max_ts_recv)
        return released

    def snapshot(self) -> bytes:
        pending = [event for _, event in sorted(self._heap, key=lambda item: item[0])]
        return msgspec.msgpack.encode(
            ReorderSnapshot(
                max_ts_recv=self.max_ts_recv,
                watermark=self.watermark,
                pending=encode_batch(pending),
                late=self.late,
            )
        )

    @classmethod
    def restore(cls, allowed_lateness_ns: int, data: bytes) -> ReorderBuffer:
        snap = msgspec.msgpack.decode(data, type=ReorderSnapshot)
        buffer = cls(allowed_lateness_ns)
        buffer.max_ts_recv, buffer.watermark, buffer.late = (
            snap.max_ts_recv,
            snap.watermark,
            snap.late,
        )
        buffer._heap = [(canonical_key(e), e) for e in decode_batch(snap.pending)]
        heapq.heapify(buffer._heap)
        return buffer
