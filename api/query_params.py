"""The query parameters the list endpoints share, read once into a `Filters`.

Times are ISO 8601 or integer nanoseconds; one that is neither, or one outside what 64-bit
nanoseconds hold, is a 400 naming the parameter. Symbols are comma-separated.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, HTTPException, Query

from api.store import MAX_LIMIT, Filters
from schemas.times import BadTime, parse_time_ns

# What OpenAPI documents a time as: integer ns below 9e18 in magnitude, or an ISO 8601 date or
# time of 1700-2199 (naive is UTC). Every value it matches is a real date and time that
# parse_time_ns reads and 64-bit nanoseconds hold, so generated requests are never refused.
_LEAP_YEAR = r"(?:(?:1[7-9]|2[01])(?:0[48]|[2468][048]|[13579][26])|2000)"
_YEAR = r"(?:1[7-9]|2[01])[0-9]{2}"
_MONTH_DAY = (
    r"(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])"
    r"|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    r"|02-(?:0[1-9]|1[0-9]|2[0-8]))"
)
_DATE = rf"(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)"
_TIME = r"T(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9](?:\.[0-9]{1,9})?)?"
_OFFSET = r"(?:Z|[+-](?:[01][0-9]|2[0-3]):?[0-5][0-9])"
TIME_PATTERN = rf"^(?:-?(?:[0-9]{{1,18}}|[1-8][0-9]{{18}})|{_DATE}(?:{_TIME}{_OFFSET}?)?)$"
TIME_EXAMPLES = ["2024-01-19T14:30:00.123456789Z", "2024-01-19", "1705674600000000000"]
_INT64 = range(-(2**63), 2**63)


def time_query(description: str, alias: str | None = None) -> Any:
    """A time query parameter; its pattern is documentation only, so a time it does not
    match still reaches time_ns and is refused there with a 400 that says why."""
    return Query(
        alias=alias,
        description=f"{description}: ISO 8601 (naive is UTC) or integer nanoseconds since "
        "the epoch.",
        examples=TIME_EXAMPLES,
        json_schema_extra={"pattern": TIME_PATTERN},
    )


RunId = Annotated[str, Query(description="`live` or a replay's run id.")]
Since = Annotated[str | None, time_query("From this time")]
Until = Annotated[str | None, time_query("Before this time")]
Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows back, newest first.")]
Symbols = Annotated[str | None, Query(description="Comma-separated underlyings.")]


def time_ns(name: str, text: str | None) -> int | None:
    """The time parameter `name` in integer nanoseconds, or a 400 saying what was expected."""
    try:
        ns = parse_time_ns(text)
    except BadTime as exc:
        raise HTTPException(400, f"{name}: {exc}") from exc
    if ns is not None and ns not in _INT64:
        raise HTTPException(400, f"{name}: {text!r} is outside what 64-bit nanoseconds hold")
    return ns


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
