"""The protocol's byte encodings: unpadded base64url and canonical JSON."""

from __future__ import annotations

import base64
import binascii
import json
from typing import Any

from payments.errors import PaymentRefused


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, what: str) -> bytes:
    """Bytes of unpadded (or padded) base64url `text`; a refusal naming `what` otherwise."""
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:
        raise PaymentRefused(f"{what} is not base64url: {exc}", code="malformed") from exc


def canonical_json(value: Any) -> bytes:
    """JSON with sorted keys and no insignificant whitespace (the RFC 8785 form of the
    strings, integers and objects the protocol uses): equal values, equal bytes; a string
    holding a lone surrogate has no UTF-8 form and is refused."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    try:
        return text.encode()
    except UnicodeEncodeError as exc:
        raise PaymentRefused(f"a string is not valid Unicode: {exc}", code="malformed") from exc


def json_object(data: bytes, what: str) -> dict[str, Any]:
    """A JSON object from `data`; a refusal naming `what` otherwise."""
    try:
        value = json.loads(data)
    # ValueError also covers an integer past Python's digit limit; RecursionError deep nesting.
    except (ValueError, RecursionError) as exc:
        raise PaymentRefused(f"{what} is not JSON: {exc}", code="malformed") from exc
    if not isinstance(value, dict):
        raise PaymentRefused(f"{what} must be a JSON object, got {value!r:.60}", code="malformed")
    return value
