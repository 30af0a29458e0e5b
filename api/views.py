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


def is_price(name: str) -> bool:
    return name in {"price", "strike_price"} or name.endswith("_px")


def dollars(value: int | None) -> float | None:
    return None if value is None else value / PRICE_SCALE


_SCALAR_TYPES = (
    msgspec.inspect.IntType,
    msgspec.inspect.FloatType,
    msgspec.inspect.StrType,
    msgspec.inspect.BoolType,
    msgspec.inspect.NoneType,
    msgspec.inspect.LiteralType,
)


def _scalar(field_type: msgspec.inspect.Type) -> bool:
    if isinstance(field_type, msgspec.inspect.UnionType):
        return all(_scalar(t) for t in field_type.types)
    return isinstance(field_type, _SCALAR_TYPES)


@cache
def _layout(
    struct_type: type[msgspec.Struct],
) -> tuple[str | None, tuple[str, ...], tuple[tuple[str, str], ...]]:
    """(event tag or None, fields that may hold more than a scalar, (price field, its
    `_dollars` name) pairs) of a struct type."""
    tag = event_tag(struct_type) if issubclass(struct_type, Event) else None
    fields = msgspec.inspect.type_info(struct_type).fields  # type: ignore[attr-defined]
    nested = tuple(f.name for f in fields if not _scalar(f.type))
    prices = tuple((f.name, f"{f.name}_dollars") for f in fields if is_price(f.name))
    return tag, nested, prices


def plain(value: Any) -> Any:
    """`value` as JSON builtins with the display rules above."""
    if isinstance(value, msgspec.Struct):
        tag, nested, prices = _layout(type(value))
        fields = msgspec.structs.asdict(value)
        for name in nested:
            fields[name] = plain(fields[name])
        for name, dollars_name in prices:
            price = fields[name]
            if price is None or price.__class__ is int:
                fields[dollars_name] = None if price is None else price / PRICE_SCALE
        return fields if tag is None else {"type": tag, **fields}
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
