"""HMAC-SHA256 signatures of webhook bodies: `X-Flowtape-Signature: sha256=<hex>`."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Flowtape-Signature"


def sign(secret: bytes, body: bytes) -> str:
    """The header value for `body` under `secret`."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def verify(secret: bytes, body: bytes, signature: str) -> bool:
    """True when `signature` is `sign(secret, body)` (compared in constant time)."""
    return hmac.compare_digest(sign(secret, body), signature)
