"""Who may call the API: API keys with scopes, per-key rate limits, and the development mode.

A request names its key in `Authorization: Bearer <key>` or `X-API-Key: <key>` (the live
tape also takes it in its first message, since browsers cannot set WebSocket headers; never
in a query string, which servers write to their access logs). Scopes: `read` (history, runs,
named queries, the live tape), `replay` (playback), `sql` (`POST /v1/sql`), `admin` (all of
them, and `/metrics` when METRICS_PUBLIC=false). No key: 401; a key without the scope: 403;
over its rate: 429 with Retry-After.

Rate limits are token buckets held in this API process (one process serves the API; several
would each allow the rate). With API_AUTH=off (development) nothing is checked, and a
request that reached the server on anything but a loopback address is refused.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import urllib.parse
from dataclasses import dataclass

from fastapi import HTTPException
from starlette.requests import HTTPConnection
from websockets.frames import Frame

from infra.keys import ApiKey, KeyStore, Rate
from infra.settings import Settings, is_loopback

_BEARER = "bearer "
# uvicorn hands its WebSocket protocol this logger, which then logs every frame's text at
# DEBUG: the live tape's first message carries an API key.
FRAME_LOGGER = "uvicorn.error"


def presented_key(connection: HTTPConnection) -> str | None:
    """The key in the request's headers, if any."""
    authorization = connection.headers.get("authorization", "")
    if authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip()
    return connection.headers.get("x-api-key")


class FramePayloadsHidden(logging.Filter):
    """Logs a WebSocket frame as its kind and size, never its text."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, Frame) for a in record.args):
            record.args = tuple(
                f"{a.opcode.name} [{len(a.data)} bytes]" if isinstance(a, Frame) else a
                for a in record.args
            )
        return True


def hide_frame_payloads() -> None:
    """Keep WebSocket frames' text (API keys among it) out of the server's logs."""
    logger = logging.getLogger(FRAME_LOGGER)
    if not any(isinstance(f, FramePayloadsHidden) for f in logger.filters):
        logger.addFilter(FramePayloadsHidden())


class RateLimited(Exception):
    def __init__(self, retry_after_s: float) -> None:
        super().__init__(f"retry after {retry_after_s:.3f} s")
        self.retry_after_s = retry_after_s


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """One token bucket per key: `rate.per_second` tokens a second, at most one second's
    worth (and at least one) held."""

    def __init__(self) -> None:
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()  # sync dependencies run in worker threads

    def take(self, key_id: str, rate: Rate) -> None:
        """Spend one token, or raise RateLimited with the wait until the next one."""
        capacity = max(1.0, rate.per_second)
        now = time.monotonic()
        with self._lock:
            bucket = self._buckets.setdefault(key_id, _Bucket(capacity, now))
            bucket.tokens = min(capacity, bucket.tokens + (now - bucket.updated) * rate.per_second)
            bucket.updated = now
            if bucket.tokens < 1.0:
                raise RateLimited((1.0 - bucket.tokens) / rate.per_second)
            bucket.tokens -= 1.0


def _refused(status: int, detail: str) -> HTTPException:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return HTTPException(status, detail, headers=headers)


class Authenticator:
    """The API's key store, rate limiter and mode; one per app (`app.state.auth`)."""

    def __init__(self, settings: Settings) -> None:
        self.enabled = settings.auth_mode() == "keys"
        self.metrics_public = settings.metrics_public
        self.keys = KeyStore(settings.data_dir)
        self.default_rate = Rate.parse(settings.api_key_rate)
        self.limiter = RateLimiter()
        self.allowed_origins = [
            o.strip().rstrip("/") for o in settings.api_allowed_origins.split(",") if o.strip()
        ]

    def authorize(self, connection: HTTPConnection, scope: str, key: str | None) -> ApiKey | None:
        """The key's record when it may use `scope` now (None in development mode), else an
        HTTPException: 401, 403 or 429."""
        if not self.enabled:
            server = connection.scope.get("server")
            if server is not None and not is_loopback(str(server[0])):
                raise _refused(403, "API_AUTH=off serves loopback only; use an API key")
            return None
        if not key:
            raise _refused(401, "an API key is needed: Authorization: Bearer <key> or X-API-Key")
        record = self.keys.verify(key)
        if record is None:
            raise _refused(401, "the API key is not valid (unknown, revoked or mistyped)")
        if not record.allows(scope):
            raise _refused(403, f"key {record.key_id} lacks the {scope!r} scope")
        self.check_rate(record)
        return record

    def check_rate(self, record: ApiKey) -> None:
        rate = Rate.parse(record.rate) if record.rate else self.default_rate
        try:
            self.limiter.take(record.key_id, rate)
        except RateLimited as exc:
            raise HTTPException(
                429,
                f"key {record.key_id} is over its rate of {rate}",
                headers={"Retry-After": str(math.ceil(exc.retry_after_s))},
            ) from exc

    def still_valid(self, record: ApiKey | None) -> bool:
        """Whether a connection authorized earlier may go on (its key not revoked since)."""
        return record is None or self.keys.active(record.key_id)

    def origin_allowed(self, origin: str | None) -> bool:
        """Whether a browser page of `origin` may open the live tape: no Origin (not a
        browser), an entry equal to it, or an entry of its scheme and host without a port."""
        if origin is None:
            return True
        parts = urllib.parse.urlsplit(origin)
        without_port = f"{parts.scheme}://{parts.netloc.rsplit(':', 1)[0]}"
        if parts.netloc.endswith("]"):  # [::1] with no port
            without_port = origin
        return any(o in (origin, without_port) for o in self.allowed_origins)
