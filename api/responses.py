"""JSON responses by msgspec: exact big integers, NaN/inf as null, anything else as its str."""

from __future__ import annotations

from typing import Any

import msgspec
from fastapi.responses import JSONResponse

encode_json = msgspec.json.Encoder(enc_hook=str).encode


class JSON(JSONResponse):
    """JSON via msgspec (the API's default response class); a JSONResponse, so that
    OpenAPI documents its bodies as JSON rather than as a string."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return encode_json(content)
