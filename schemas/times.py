"""Times as people write them: ISO 8601 or integer nanoseconds since the epoch."""

from __future__ import annotations

import calendar
import re
from datetime import datetime

from schemas.errors import FlowtapeError

_ISO = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


class BadTime(FlowtapeError, ValueError):
    """A time that is neither ISO 8601 nor integer nanoseconds."""

    code = "bad_time"


def parse_time_ns(text: str | None) -> int | None:
    """ISO 8601 (a date, or a time with optional fraction and offset; naive means UTC) or
    integer nanoseconds since the epoch, as integer nanoseconds."""
    if text is None or text == "":
        return None
    text = text.strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    match = _ISO.match(text)
    if match is None:
        raise BadTime(
            f"expected an ISO 8601 time (e.g. 2024-01-19T14:30:00.123456789Z) or integer "
            f"nanoseconds since the epoch, got {text!r}"
        )
    tz = match["tz"] or "+00:00"
    if tz == "Z":
        tz = "+00:00"
    try:
        base = match["base"].replace(" ", "T")
        moment = datetime.fromisoformat(base + ("" if "T" in base else "T00:00") + tz)
    except ValueError as exc:
        raise BadTime(f"expected a valid ISO 8601 time, got {text!r}: {exc}") from exc
    seconds = calendar.timegm(moment.utctimetuple())
    fraction = int((match["frac"] or "0").ljust(9, "0"))
    return seconds * 1_000_000_000 + fraction
