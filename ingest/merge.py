"""Streaming canonical order for raw events: per-stream reordering and a k-way merge.

Each input stream is expected to be (nearly) sorted by `ts_recv`, as Databento files and
feeds are. Events that share a `ts_recv` are sorted by `schemas.ordering.canonical_key`;
only those small groups pay for the full key (it encodes the event). Memory stays bounded
by the reorder window, never by the session size.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator
from operator import attrgetter

from schemas.codec import encode_event
from schemas.events import Event, Quarantined
from schemas.ordering import canonical_key

_ts_recv = attrgetter("ts_recv")


def _sorted_group(group: list[Event]) -> list[Event]:
    return group if len(group) == 1 else sorted(group, key=canonical_key)


def _late(event: Event, released_ts: int, source: str) -> Quarantined:
    # A late event cannot be put back in order; keep it, encoded, as evidence.
    return Quarantined(
        ts_recv=released_ts,
        source=getattr(event, "source", source),
        reason="out_of_order",
        detail=(
            f"{type(event).__name__} ts_recv={_ts_recv(event)} arrived after events up to "
            f"{released_ts} were released; widen the reorder window"
        ),
        payload=encode_event(event),
    )


def canonical_stream(
    events: Iterable[Event], window_ns: int | None = 0, *, source: str = "merge"
) -> Iterator[Event]:
    """`events` in canonical order, holding back at most `window_ns` of receive time.

    With `window_ns=0` the input must already be sorted by `ts_recv` (ties in any order);
    with a positive window an event may arrive up to that much behind the newest one; with
    `None` the whole stream is sorted in memory (small, unordered recordings only). An event
    behind what was already released becomes a `Quarantined` event (`out_of_order`).
    """
    if window_ns is None:
        yield from sorted(events, key=canonical_key)
    elif window_ns == 0:
        yield from _group_runs(events, source)
    else:
        yield from _windowed(events, window_ns, source)


def _group_runs(events: Iterable[Event], source: str) -> Iterator[Event]:
    group: list[Event] = []
    group_ts = -1
    released_ts = -1
    for event in events:
        ts = event.ts_recv  # type: ignore[attr-defined]
        if ts == group_ts:
            group.append(event)
        elif ts > group_ts:
            if group:
                yield from _sorted_group(group)
                released_ts = group_ts
            group = [event]
            group_ts = ts
        else:
            yield _late(event, max(released_ts, group_ts), source)
    if group:
        yield from _sorted_group(group)


def _windowed(events: Iterable[Event], window_ns: int, source: str) -> Iterator[Event]:
    pending: dict[int, list[Event]] = {}
    heap: list[int] = []
    newest = -1
    released_ts = -1
    for event in events:
        ts = event.ts_recv  # type: ignore[attr-defined]
        if ts <= released_ts:
            yield _late(event, released_ts, source)
            continue
        bucket = pending.get(ts)
        if bucket is None:
            pending[ts] = [event]
            heapq.heappush(heap, ts)
        else:
            bucket.append(event)
        if ts > newest:
            newest = ts
            watermark = newest - window_ns
            while heap and heap[0] < watermark:
                released_ts = heapq.heappop(heap)
                yield from _sorted_group(pending.pop(released_ts))
    while heap:
        yield from _sorted_group(pending.pop(heapq.heappop(heap)))


class CanonicalBatches:
    """Canonical order for a stream that arrives in sorted batches (the bulk replay path).

    `feed(batch)` returns what is final: everything but the events at the batch's newest
    `ts_recv`, which may still tie with the next batch; `flush()` returns the rest. An event
    behind what was already returned becomes `Quarantined` (`out_of_order`).
    """

    def __init__(self, source: str = "merge") -> None:
        self._source = source
        self._carry: list[Event] = []
        self._released_ts = -1

    def feed(self, batch: list[Event]) -> list[Event]:
        events = self._carry + batch if self._carry else batch
        out: list[Event] = []
        append = out.append
        group: list[Event] = []
        group_ts = -1
        released_ts = self._released_ts
        for event in events:
            ts = event.ts_recv  # type: ignore[attr-defined]
            if ts == group_ts:
                group.append(event)
            elif ts > group_ts:
                if group:
                    if len(group) == 1:
                        append(group[0])
                    else:
                        out.extend(sorted(group, key=canonical_key))
                    released_ts = group_ts
                group = [event]
                group_ts = ts
            else:
                append(_late(event, max(released_ts, group_ts), self._source))
        self._carry = group
        self._released_ts = released_ts
        return out

    def flush(self) -> list[Event]:
        group, self._carry = self._carry, []
        return _sorted_group(group) if group else []


def merge_canonical(streams: Iterable[Iterable[Event]]) -> Iterator[Event]:
    """Merge streams that are each in canonical order into one canonical stream (k-way)."""
    merged = heapq.merge(*streams, key=_ts_recv)
    return _group_runs(merged, "merge")
