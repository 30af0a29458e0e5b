"""Events and stored rows as JSON-ready values, one shape for REST, WebSocket and playback.

Rules: timestamps stay integer nanoseconds; money stays integer cents; every price (int at
1e-9 dollars: `price`, `strike_price`, `*_px`) keeps its integer and gains a `<name>_dollars`
float for display; nested records (including the array-like member prints of the wire
format) become objects with named fields; an event carries its `type` tag.
"""

from __future__ import annotations

import base64
import calendar
import re
from datetime import datetime
from functools import cache
from typing import Any

import msgspec

from schemas.errors import FlowtapeError
from schemas.events import PRICE_SCALE, Event, event_tag

_ISO = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2})?)?)"
    r"(?:\.(?P<frac>\d{1,9}))?(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


_SCALARS = frozenset({int, float, str, bool, type(None)})


class BadTime(FlowtapeError, ValueError):
    """A time parameter that is neither ISO 8601 nor integer nanoseconds."""

    code = "bad_time"


def is_price(name: str) -> bool:
    return name in {"price", "strike_price"} or name.endswith("_px")


def dollars(value: int | None) -> float | None:
    return None if value is None else value / PRICE_SCALE


@cache
def _layout(
    struct_type: type[msgspec.Struct],
) -> tuple[str | None, tuple[tuple[str, str | None], ...]]:
    """(event tag or None, ((field, its `_dollars` name or None), ...)) of a struct type."""
    tag = event_tag(struct_type) if issubclass(struct_type, Event) else None
    fields = tuple(
        (name, f"{name}_dollars" if is_price(name) else None)
        for name in struct_type.__struct_fields__
    )
    return tag, fields


def plain(value: Any) -> Any:
    """`value` as JSON builtins with the display rules above."""
    if isinstance(value, msgspec.Struct):
        tag, fields = _layout(type(value))
        out: dict[str, Any] = {"type": tag} if tag is not None else {}
        for name, dollars_name in fields:
            field = getattr(value, name)
            if field.__class__ in _SCALARS:
                out[name] = field
            else:
                out[name] = plain(field)
            if dollars_name is not None and (field is None or field.__class__ is int):
                out[dollars_name] = None if field is None else field / PRICE_SCALE
        return out
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    return value


def with_dollars(row: dict[str, Any]) -> dict[str, Any]:
    """A flat row (not an event) with `<price>_dollars` beside each price column."""
    out: dict[str, Any] = {}
    for name, value in row.items():
        out[name] = value
        if is_price(name) and (value is None or isinstance(value, int)):
            out[f"{name}_dollars"] = dollars(value)
    return out


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
