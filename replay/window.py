"""A replay's time window: its bounds as given by a person, and the events inside it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator

from schemas.errors import FlowtapeError
from schemas.events import Event, OpenInterest, OptionContract

REFERENCE = (OptionContract, OpenInterest)


class BadTime(FlowtapeError, ValueError):
    """A window bound that is neither an ISO time nor integer nanoseconds."""

    code = "bad_time"


def parse_time(value: str | None) -> int | None:
    """Nanoseconds since the epoch from an integer or an ISO time (UTC unless it says)."""
    if value is None:
        return None
    if value.isdigit():
        return int(value)
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise BadTime(
            f"expected an ISO time (e.g. 2025-02-20T14:30) or integer nanoseconds, got {value!r}"
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=dt.UTC)
    return int(parsed.timestamp()) * 1_000_000_000 + parsed.microsecond * 1_000


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
