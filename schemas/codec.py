"""The one wire codec: a micro-batch of events as one msgpack message."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from schemas.book import BookRawEvent
from schemas.cme import CmeEvent
from schemas.crypto import CryptoEvent
from schemas.errors import FlowtapeError
from schemas.events import AnyEvent, Event

_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(list[AnyEvent | CryptoEvent | BookRawEvent | CmeEvent])
_json_encoder = msgspec.json.Encoder()


class CodecError(FlowtapeError, ValueError):
    """A message could not be decoded into events."""

    code = "codec"


def encode_batch(events: Sequence[Event]) -> bytes:
    """Pack events (normally all of one type) into one message body."""
    return _encoder.encode(events)


def decode_batch(data: bytes) -> list[Event]:
    """Unpack a message body; raises `CodecError` saying what was wrong."""
    try:
        return list(_decoder.decode(data))
    except msgspec.DecodeError as exc:
        raise CodecError(f"expected a msgpack list of flowtape events: {exc}") from exc


def encode_event(event: Event) -> bytes:
    """One event as msgpack (the canonical bytes behind IDs and ordering ties)."""
    return _encoder.encode(event)


def to_json(value: object) -> bytes:
    """JSON for people and the API (bytes fields become base64)."""
    return _json_encoder.encode(value)
