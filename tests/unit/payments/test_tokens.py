"""Stream tokens: bound to symbol, channel and expiry; tampering and expiry refused."""

from __future__ import annotations

import base64
import json

import pytest

from payments.errors import PaymentRefused
from payments.tokens import StreamGrant, StreamTokens

TOKENS = StreamTokens(b"k" * 32)
GRANT = StreamGrant("CL", "0x" + "01" * 32, 1_800_000_060)


def test_a_token_grants_its_symbol_and_channel_until_its_expiry() -> None:
    token = TOKENS.issue(GRANT)
    assert TOKENS.verify(token, "CL", 1_800_000_059) == GRANT


def test_an_expired_token_is_refused() -> None:
    token = TOKENS.issue(GRANT)
    with pytest.raises(PaymentRefused) as refused:
        TOKENS.verify(token, "CL", 1_800_000_060)
    assert (refused.value.code, refused.value.status) == ("token_expired", 401)


def test_a_token_for_another_symbol_is_refused() -> None:
    token = TOKENS.issue(GRANT)
    with pytest.raises(PaymentRefused) as refused:
        TOKENS.verify(token, "ES", 1_800_000_000)
    assert (refused.value.code, refused.value.status) == ("token_symbol", 403)


def _reencoded(token: str, **claims: object) -> str:
    body, _, signature = token.partition(".")
    decoded = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    changed = json.dumps(decoded | claims, sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(changed).rstrip(b"=").decode() + "." + signature


@pytest.mark.parametrize(
    "tamper",
    [
        lambda t: _reencoded(t, exp=1_900_000_000),  # a later expiry
        lambda t: _reencoded(t, sym="ES"),  # another symbol under the old signature
        lambda t: _reencoded(t, ch="0x" + "02" * 32),
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),  # the signature
        lambda t: t.partition(".")[0],  # no signature
        lambda t: StreamTokens(b"other" * 8).issue(GRANT),  # another server's key
    ],
)
def test_a_tampered_token_is_refused(tamper) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PaymentRefused) as refused:
        TOKENS.verify(tamper(TOKENS.issue(GRANT)), "CL", 1_800_000_000)
    assert (refused.value.code, refused.value.status) == ("token_forged", 401)
