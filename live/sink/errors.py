"""The sink's error type."""

from __future__ import annotations

from schemas.errors import FlowtapeError


class SinkError(FlowtapeError):
    code = "sink"
