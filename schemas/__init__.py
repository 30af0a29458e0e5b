"""The event vocabulary of flowtape: frozen structs, canonical order, IDs, subjects, codec."""

from schemas.codec import decode_batch, encode_batch
from schemas.events import *  # noqa: F403  (the vocabulary is the package's public surface)
from schemas.events import __all__ as _events_all
from schemas.ids import make_id
from schemas.ordering import canonical_key, schema_rank

__all__ = [*_events_all, "canonical_key", "decode_batch", "encode_batch", "make_id", "schema_rank"]
