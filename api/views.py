"""Events and stored rows as JSON-ready values, one shape for REST, WebSocket and playback.

Rules: timestamps stay integer nanoseconds; money stays integer cents; every price (int at
1e-9 dollars: `price`, `strike_price`, `*_px`) keeps its integer and gains a `<name>_dollars`
float for display; nested records (including the array-like member prints of the wire
format) become objects with named fields; an event carries its `type` tag.
"""

from __future__ import annotations

import base64
from functools import cache
from typing import Any

import msgspec

from schemas.events import PRICE_SCALE, Event, event_tag

_SCALARS = frozenset({int, float, str, bool, type(None)})


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
