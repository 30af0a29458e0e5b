"""Inputs the payment header fuzz harness found that escape as non-flowtape errors (a 500
where a 401/402 with a code is due). Reported to the owners of payments/; each test states
the intended answer (a PaymentRefused) and is a strict xfail until the parser is fixed."""

from __future__ import annotations

import json

import pytest

from payments.challenge import ChallengeIssuer, Credential
from payments.encoding import b64url_encode
from payments.errors import PaymentRefused
from payments.tokens import StreamTokens
from payments.voucher import Voucher

NOW_S = 1_800_000_000
CHANNEL = "0x" + "11" * 32
SIGNATURE = "0x" + "22" * 64 + "1b"


@pytest.mark.xfail(strict=True, raises=TypeError, reason="hmac.compare_digest on non-ASCII str")
def test_a_stream_token_with_non_ascii_characters_is_refused_as_forged() -> None:
    with pytest.raises(PaymentRefused):
        StreamTokens(b"secret").verify("e30.é", "ES", NOW_S)


@pytest.mark.xfail(strict=True, raises=KeyError, reason="claims read with [] after the MAC")
def test_a_signed_token_without_its_claims_is_refused() -> None:
    tokens = StreamTokens(b"secret")
    body = b"{}"
    with pytest.raises(PaymentRefused):
        tokens.verify(f"{b64url_encode(body)}.{tokens._sign(body)}", "ES", NOW_S)


@pytest.mark.xfail(strict=True, raises=ValueError, reason="str.isdigit accepts '²'")
def test_a_voucher_amount_of_unicode_digits_is_refused() -> None:
    payload = {"channelId": CHANNEL, "signature": SIGNATURE, "cumulativeAmount": "²"}
    with pytest.raises(PaymentRefused):
        Voucher.from_json(payload)


@pytest.mark.xfail(strict=True, raises=ValueError, reason="int digit limit in json.loads")
def test_a_credential_with_a_5000_digit_number_is_refused() -> None:
    challenge = ChallengeIssuer(b"secret", "flowtape", 300).issue({"amount": "1"}, NOW_S)
    body = json.dumps({"challenge": challenge.as_json(), "payload": {"n": 0}, "source": "x"})
    huge = body.replace('"n": 0', '"n": ' + "9" * 5000).encode()
    with pytest.raises(PaymentRefused):
        Credential.from_header("Payment " + b64url_encode(huge))


@pytest.mark.xfail(strict=True, raises=UnicodeEncodeError, reason="surrogate in canonical_json")
def test_a_credential_whose_challenge_holds_a_lone_surrogate_is_refused() -> None:
    issuer = ChallengeIssuer(b"secret", "flowtape", 300)
    fields = issuer.issue({"amount": "1"}, NOW_S).as_json()
    body = json.dumps({"challenge": fields | {"realm": "\ud800"}, "payload": {}, "source": "x"})
    credential = Credential.from_header("Payment " + b64url_encode(body.encode()))
    with pytest.raises(PaymentRefused):
        issuer.verify(credential.challenge, NOW_S)
