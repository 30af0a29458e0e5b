"""The error body every route answers with (`detail`, `code`), and the OpenAPI `responses`
that declare which error statuses a route returns."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel


class ErrorBody(BaseModel):
    detail: str
    code: str


_ERROR_SCHEMA = ErrorBody.model_json_schema()
_DESCRIPTIONS = {
    400: "A parameter the route cannot use (a bad time or channel, refused or failed SQL).",
    401: "No API key, or one that is unknown or revoked.",
    403: "The key lacks the route's scope (or API_AUTH=off and the request is not on loopback).",
    404: "No such run, packet, named query or candle key.",
    422: "A parameter outside the values the route reads (a candle timeframe, limit or kind).",
    429: "The key is over its rate; Retry-After says when to try again.",
    503: "ClickHouse is unreachable or a table is missing (`flowtape migrate` recreates it).",
}

_RETRY_AFTER = {
    "Retry-After": {
        "description": "Seconds until a request is allowed.",
        "schema": {"type": "integer"},
    }
}

# What a route guarded by an API key scope may answer before its handler runs.
AUTH = (401, 403, 429)


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router answering these error statuses with an ErrorBody."""
    # The schema inline rather than as `model`, which FastAPI would document under the route's
    # own media type (text/event-stream for playback) instead of application/json.
    return {
        status: {
            "content": {"application/json": {"schema": _ERROR_SCHEMA}},
            "description": _DESCRIPTIONS[status],
            **({"headers": _RETRY_AFTER} if status == 429 else {}),
        }
        for status in statuses
    }
