"""The query parameters the list endpoints share, read once into a `Filters`.

Times are ISO 8601 or integer nanoseconds; one that is neither is a 400 naming the
parameter. Symbols are comma-separated.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Query

from api.store import MAX_LIMIT, Filters
from schemas.times import BadTime, parse_time_ns

RunId = Annotated[str, Query(description="`live` or a replay's run id.")]
Since = Annotated[str | None, Query(description="From this time: ISO 8601 or integer ns.")]
Until = Annotated[str | None, Query(description="Before this time: ISO 8601 or int ns.")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows back, newest first.")]
Symbols = Annotated[str | None, Query(description="Comma-separated underlyings.")]


def time_ns(name: str, text: str | None) -> int | None:
    """The time parameter `name` in integer nanoseconds, or a 400 saying what was expected."""
    try:
        return parse_time_ns(text)
    except BadTime as exc:
        raise HTTPException(400, f"{name}: {exc}") from exc


def comma_separated(text: str | None) -> list[str]:
    return [s.strip() for s in (text or "").split(",") if s.strip()]


def history_filters(
    run_id: RunId = "live", since: Since = None, until: Until = None, limit: Limit = 100
) -> Filters:
    """The run, time range and row count every history list takes."""
    return Filters(
        run_id=run_id,
        since_ns=time_ns("since", since),
        until_ns=time_ns("until", until),
        limit=limit,
    )


def underlyings(underlying: Symbols = None) -> list[str]:
    return comma_separated(underlying)


HistoryFilters = Annotated[Filters, Depends(history_filters)]
Underlyings = Annotated[list[str], Depends(underlyings)]
