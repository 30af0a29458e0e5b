"""402 challenges and the credentials that answer them (`WWW-Authenticate: Payment …`).

A challenge is stateless: its id is a random nonce followed by an HMAC over the nonce and
the other fields under the server's secret, so every challenge is new, the server
recognises its own (and their expiry) without storing them, and nobody else can mint one.
That a challenge is answered only once is the ledger's business (`payments.ledger`).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from payments.encoding import b64url_decode, b64url_encode, canonical_json, json_object
from payments.errors import PaymentRefused

METHOD = "tempo"
INTENT = "session"
SCHEME = "Payment"
NONCE_BYTES = 12
_FIELDS = ("id", "realm", "method", "intent", "request", "expires")
_PARAM = re.compile(r'(\w+)="([^"]*)"')


def _iso(epoch_s: int) -> str:
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _epoch(iso: str) -> int:
    try:
        return int(datetime.strptime(iso, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC).timestamp())
    except ValueError as exc:
        raise PaymentRefused(
            f"challenge expiry {iso!r} is not UTC ISO 8601", code="malformed"
        ) from exc


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge: `request` is base64url canonical JSON of what is asked for."""

    id: str
    realm: str
    method: str
    intent: str
    request: str
    expires: str

    @property
    def expires_s(self) -> int:
        return _epoch(self.expires)

    def header(self) -> str:
        """The `WWW-Authenticate` value."""
        params = ", ".join(f'{name}="{getattr(self, name)}"' for name in _FIELDS)
        return f"{SCHEME} {params}"

    def as_json(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in _FIELDS}

    def requested(self) -> dict[str, Any]:
        return json_object(b64url_decode(self.request, "the challenge's request"), "request")

    @classmethod
    def from_header(cls, value: str) -> Challenge:
        """The challenge in a `WWW-Authenticate: Payment …` value."""
        if not value.startswith(SCHEME + " "):
            raise PaymentRefused(
                f"expected a {SCHEME} challenge, got {value!r:.60}", code="malformed"
            )
        return cls.from_json(dict(_PARAM.findall(value)))

    @classmethod
    def from_json(cls, value: object) -> Challenge:
        if not isinstance(value, dict) or not all(isinstance(value.get(f), str) for f in _FIELDS):
            raise PaymentRefused(
                f"a challenge needs the string fields {', '.join(_FIELDS)}", code="malformed"
            )
        return cls(**{name: value[name] for name in _FIELDS})


class ChallengeIssuer:
    """Issues and recognises this server's challenges."""

    def __init__(self, secret: bytes, realm: str, ttl_s: int) -> None:
        # A key of its own: a challenge id can never pass for a stream token's signature.
        self._key = hmac.new(secret, b"flowtape mpp challenge", hashlib.sha256).digest()
        self.realm = realm
        self.ttl_s = ttl_s

    def _mac(
        self, nonce: bytes, realm: str, method: str, intent: str, request: str, expires: str
    ) -> bytes:
        body = canonical_json([nonce.hex(), realm, method, intent, request, expires])
        return hmac.new(self._key, body, hashlib.sha256).digest()

    def issue(self, request: dict[str, Any], now_s: float) -> Challenge:
        encoded = b64url_encode(canonical_json(request))
        expires = _iso(int(now_s) + self.ttl_s)
        nonce = secrets.token_bytes(NONCE_BYTES)
        mac = self._mac(nonce, self.realm, METHOD, INTENT, encoded, expires)
        return Challenge(b64url_encode(nonce + mac), self.realm, METHOD, INTENT, encoded, expires)

    def verify(self, challenge: Challenge, now_s: float) -> None:
        """Refuse a challenge this server did not issue, or one past its expiry."""
        presented = b64url_decode(challenge.id, "the challenge id")
        nonce, mac = presented[:NONCE_BYTES], presented[NONCE_BYTES:]
        expected = self._mac(
            nonce, challenge.realm, challenge.method, challenge.intent, challenge.request,
            challenge.expires,
        )  # fmt: skip
        if not hmac.compare_digest(expected, mac):
            raise PaymentRefused(
                "the challenge was not issued by this server", code="challenge_forged"
            )
        if challenge.expires_s <= now_s:
            raise PaymentRefused(
                f"the challenge expired at {challenge.expires}", code="challenge_expired"
            )


@dataclass(frozen=True, slots=True)
class Credential:
    """`Authorization: Payment <base64url JSON {challenge, payload, source}>`."""

    challenge: Challenge
    payload: dict[str, Any]
    source: str
    encoded: str

    @property
    def digest(self) -> str:
        """What identifies this exact credential (an identical retry has the same)."""
        return hashlib.sha256(self.encoded.encode()).hexdigest()

    @classmethod
    def from_header(cls, value: str) -> Credential:
        scheme, _, encoded = value.strip().partition(" ")
        if scheme.lower() != SCHEME.lower() or not encoded:
            raise PaymentRefused(
                f"expected `Authorization: {SCHEME} <credential>`", code="malformed"
            )
        body = json_object(b64url_decode(encoded.strip(), "the credential"), "the credential")
        payload = body.get("payload")
        if not isinstance(payload, dict):
            raise PaymentRefused("the credential's payload must be an object", code="malformed")
        return cls(
            Challenge.from_json(body.get("challenge")), payload, str(body.get("source", "")),
            encoded.strip(),
        )  # fmt: skip

    @staticmethod
    def encode(challenge: Challenge, payload: dict[str, Any], source: str) -> str:
        """The `Authorization` value a client sends."""
        body = {"challenge": challenge.as_json(), "payload": payload, "source": source}
        return f"{SCHEME} {b64url_encode(canonical_json(body))}"
