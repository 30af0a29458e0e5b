"""A replay's time window: the events inside it (bounds parsed by `schemas.times`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from schemas.events import Event, OpenInterest, OptionContract

REFERENCE = (OptionContract, OpenInterest)


def within(events: Iterable[Event], start: int | None, end: int | None) -> Iterator[Event]:
    """Events with `start <= ts_recv < end`; reference data (definitions, open interest)
    from before `start` passes too, since the engine needs it for what follows."""
    for event in events:
        ts = event.ts_recv
        if start is not None and ts < start and not isinstance(event, REFERENCE):
            continue
        if end is not None and ts >= end:
            break  # canonical order: nothing later can fall inside
        yield event
