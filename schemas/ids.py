"""Deterministic identifiers: blake2b-128 over canonical fields and the run id.

Python's `hash()` is salted per process and polars' hashes change across versions, so
neither may ever name a stored thing.
"""

from __future__ import annotations

import hashlib

import msgspec

IdField = int | str | bytes | bool | None

_encoder = msgspec.msgpack.Encoder()
# Copied for each id: half the cost of a new hasher built from its keyword arguments.
_BLAKE2B_128 = hashlib.blake2b(digest_size=16)


def make_id(kind: str, run_id: str, *fields: IdField) -> str:
    """32 hex characters naming `kind` built from `fields` within `run_id`."""
    digest = _BLAKE2B_128.copy()
    digest.update(_encoder.encode((kind, run_id, *fields)))
    return digest.hexdigest()


def message_id(body: bytes) -> str:
    """The JetStream `Nats-Msg-Id` of a message body (content-addressed)."""
    return hashlib.blake2b(body, digest_size=16).hexdigest()
