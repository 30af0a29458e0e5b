"""Inputs the payment header fuzz harness (bench/fuzz/fuzz_payment_headers.py) once turned
into a 500: each is now refused with a PaymentRefused and its code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from payments.challenge import ChallengeIssuer, Credential
from payments.encoding import b64url_encode, canonical_json
from payments.errors import PaymentRefused
from payments.tokens import StreamTokens
from payments.voucher import Voucher

ROOT = Path(__file__).resolve().parents[3]
NOW_S = 1_800_000_000
CHANNEL = "0x" + "11" * 32
SIGNATURE = "0x" + "22" * 64 + "1b"


def signed_token(tokens: StreamTokens, body: bytes) -> str:
    return f"{b64url_encode(body)}.{tokens._sign(body)}"


@pytest.mark.parametrize("signature", ["é", "e30é", "\ud800"])
def test_a_stream_token_with_a_non_ascii_signature_is_refused_as_forged(signature: str) -> None:
    with pytest.raises(PaymentRefused) as refused:
        StreamTokens(b"secret").verify(f"e30.{signature}", "ES", NOW_S)
    assert (refused.value.code, refused.value.status) == ("token_forged", 401)


@pytest.mark.parametrize(
    "claims",
    [
        {},
        {"sym": "ES", "ch": CHANNEL},
        {"sym": "ES", "ch": CHANNEL, "exp": "soon"},
        {"sym": "ES", "ch": CHANNEL, "exp": None},
        {"sym": "ES", "ch": CHANNEL, "exp": [NOW_S]},
    ],
)
def test_a_signed_token_with_missing_or_malformed_claims_is_refused(
    claims: dict[str, object],
) -> None:
    tokens = StreamTokens(b"secret")
    with pytest.raises(PaymentRefused) as refused:
        tokens.verify(signed_token(tokens, json.dumps(claims).encode()), "ES", NOW_S)
    assert (refused.value.code, refused.value.status) == ("malformed", 401)


def test_a_signed_token_with_an_infinite_expiry_is_refused() -> None:
    tokens = StreamTokens(b"secret")
    body = b'{"sym": "ES", "ch": "0x11", "exp": Infinity}'
    with pytest.raises(PaymentRefused) as refused:
        tokens.verify(signed_token(tokens, body), "ES", NOW_S)
    assert refused.value.code == "malformed"


@pytest.mark.parametrize("amount", ["²", "١٢٣", "12³", "１２"])
def test_a_voucher_amount_of_non_ascii_digits_is_refused(amount: str) -> None:
    assert amount.isdigit()  # what made the old check let it through to int()
    payload = {"channelId": CHANNEL, "signature": SIGNATURE, "cumulativeAmount": amount}
    with pytest.raises(PaymentRefused) as refused:
        Voucher.from_json(payload)
    assert (refused.value.code, refused.value.status) == ("malformed", 402)


def test_an_ascii_decimal_voucher_amount_is_still_accepted() -> None:
    payload = {"channelId": CHANNEL, "signature": SIGNATURE, "cumulativeAmount": "0012"}
    assert Voucher.from_json(payload).cumulative_amount == 12


def test_a_credential_with_a_5000_digit_number_is_refused() -> None:
    challenge = ChallengeIssuer(b"secret", "flowtape", 300).issue({"amount": "1"}, NOW_S)
    body = json.dumps({"challenge": challenge.as_json(), "payload": {"n": 0}, "source": "x"})
    huge = body.replace('"n": 0', '"n": ' + "9" * 5000).encode()
    with pytest.raises(PaymentRefused) as refused:
        Credential.from_header("Payment " + b64url_encode(huge))
    assert refused.value.code == "malformed"
    assert "the credential is not JSON" in str(refused.value)


def test_json_nested_past_the_recursion_limit_is_refused() -> None:
    # In a fresh interpreter: the default recursion limit, which a test runner may raise
    # past what the C stack holds.
    probe = (
        "from payments.encoding import json_object\n"
        "from payments.errors import PaymentRefused\n"
        "try:\n"
        "    json_object(b'[' * 200_000, 'the receipt')\n"
        "except PaymentRefused as refused:\n"
        "    print(refused.code)\n"
    )
    done = subprocess.run(  # noqa: S603  (this interpreter, a fixed program)
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False, cwd=ROOT
    )
    assert (done.returncode, done.stdout.strip()) == (0, "malformed"), done.stderr[-2000:]


def test_a_credential_whose_challenge_holds_a_lone_surrogate_is_refused() -> None:
    issuer = ChallengeIssuer(b"secret", "flowtape", 300)
    fields = issuer.issue({"amount": "1"}, NOW_S).as_json()
    body = json.dumps({"challenge": fields | {"realm": "\ud800"}, "payload": {}, "source": "x"})
    credential = Credential.from_header("Payment " + b64url_encode(body.encode()))
    with pytest.raises(PaymentRefused) as refused:
        issuer.verify(credential.challenge, NOW_S)
    assert refused.value.code == "malformed"


def test_canonical_json_keeps_valid_non_ascii_text_as_utf8() -> None:
    assert canonical_json({"b": "é", "a": 1}) == '{"a":1,"b":"é"}'.encode()
