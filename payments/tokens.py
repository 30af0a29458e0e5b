"""Stream tokens: what an accepted voucher buys, carried by the subscriber.

`<base64url canonical JSON {sym, ch, exp}>.<base64url HMAC-SHA256>` under a key derived from
MPP_SECRET_KEY: bound to one symbol, one channel and an expiry (epoch seconds), checked
without any lookup. The expiry is the paid-through time the ledger stored with the voucher,
so a token never outlives what was paid.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from payments.encoding import b64url_decode, b64url_encode, canonical_json, json_object
from payments.errors import PaymentRefused


@dataclass(frozen=True, slots=True)
class StreamGrant:
    """What a valid token allows: `symbol` from `channel_id` until `expires_s`."""

    symbol: str
    channel_id: str
    expires_s: int


class StreamTokens:
    """Issues and checks stream tokens."""

    def __init__(self, secret: bytes) -> None:
        self._key = hmac.new(secret, b"flowtape mpp stream token", hashlib.sha256).digest()

    def _sign(self, body: bytes) -> str:
        return b64url_encode(hmac.new(self._key, body, hashlib.sha256).digest())

    def issue(self, grant: StreamGrant) -> str:
        body = canonical_json({"sym": grant.symbol, "ch": grant.channel_id, "exp": grant.expires_s})
        return f"{b64url_encode(body)}.{self._sign(body)}"

    def verify(self, token: str, symbol: str, now_s: float) -> StreamGrant:
        """The grant of `token` for `symbol` at `now_s`; refused (HTTP 401/403) when it was
        tampered with, has expired or is for another symbol."""
        encoded, _, signature = token.partition(".")
        body = b64url_decode(encoded, "the stream token")
        # compare_digest takes only ASCII str: any other signature is forged anyway.
        if not signature.isascii() or not hmac.compare_digest(self._sign(body), signature):
            raise PaymentRefused(
                "the stream token's signature does not match", code="token_forged", status=401
            )
        claims = json_object(body, "the stream token")
        try:
            grant = StreamGrant(str(claims["sym"]), str(claims["ch"]), int(claims["exp"]))
        except (KeyError, TypeError, ValueError, OverflowError) as exc:
            raise PaymentRefused(
                f"the stream token's claims are malformed: {exc!r:.60}",
                code="malformed",
                status=401,
            ) from exc
        if grant.expires_s <= now_s:
            raise PaymentRefused(
                f"the stream token expired at {grant.expires_s}; pay another voucher",
                code="token_expired",
                status=401,
            )
        if grant.symbol != symbol:
            raise PaymentRefused(
                f"the stream token is for {grant.symbol}, not {symbol}",
                code="token_symbol",
                status=403,
            )
        return grant
