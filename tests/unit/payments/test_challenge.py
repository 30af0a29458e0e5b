"""402 challenges: HMAC ids over canonical JSON, base64url, expiry; credentials."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json

import pytest

from payments.challenge import Challenge, ChallengeIssuer, Credential
from payments.errors import PaymentRefused

SECRET = b"s" * 32
REQUEST = {
    "unitType": "minute", "amount": "1000", "recipient": "0x" + "22" * 20,
    "currency": "0x" + "33" * 20, "suggestedDeposit": "60000",
    "methodDetails": {"escrowContract": "0x" + "44" * 20, "chainId": 42431},
}  # fmt: skip
NOW = 1_800_000_000


def test_the_request_is_unpadded_base64url_of_sorted_compact_json() -> None:
    challenge = ChallengeIssuer(SECRET, "flowtape", 300).issue(REQUEST, NOW)
    assert "=" not in challenge.request
    decoded = base64.urlsafe_b64decode(challenge.request + "=" * (-len(challenge.request) % 4))
    assert decoded == json.dumps(REQUEST, sort_keys=True, separators=(",", ":")).encode()
    assert challenge.requested() == REQUEST
    assert (challenge.method, challenge.intent, challenge.expires) == (
        "tempo", "session", "2027-01-15T08:05:00Z",
    )  # fmt: skip


def test_the_id_is_a_nonce_and_an_hmac_of_it_and_the_fields_under_a_derived_key() -> None:
    challenge = ChallengeIssuer(SECRET, "flowtape", 300).issue(REQUEST, NOW)
    raw = base64.urlsafe_b64decode(challenge.id + "=" * (-len(challenge.id) % 4))
    nonce, mac = raw[:12], raw[12:]
    key = hmac.new(SECRET, b"flowtape mpp challenge", hashlib.sha256).digest()
    fields = [nonce.hex(), "flowtape", "tempo", "session", challenge.request, challenge.expires]
    body = json.dumps(fields, separators=(",", ":")).encode()
    assert mac == hmac.new(key, body, hashlib.sha256).digest()


def test_two_challenges_for_the_same_terms_at_the_same_second_differ() -> None:
    issuer = ChallengeIssuer(SECRET, "flowtape", 300)
    first, second = issuer.issue(REQUEST, NOW), issuer.issue(REQUEST, NOW)
    assert first.id != second.id
    issuer.verify(first, NOW)
    issuer.verify(second, NOW)


def test_the_header_round_trips() -> None:
    challenge = ChallengeIssuer(SECRET, "flowtape", 300).issue(REQUEST, NOW)
    header = challenge.header()
    assert header.startswith('Payment id="') and 'intent="session"' in header
    assert Challenge.from_header(header) == challenge


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"request": "e30"}, "challenge_forged"),  # another request under the same id
        ({"expires": "2099-01-01T00:00:00Z"}, "challenge_forged"),  # a later expiry
        ({"realm": "elsewhere"}, "challenge_forged"),
    ],
)
def test_a_tampered_challenge_is_refused(change: dict[str, str], code: str) -> None:
    issuer = ChallengeIssuer(SECRET, "flowtape", 300)
    fields = issuer.issue(REQUEST, NOW).as_json() | change
    with pytest.raises(PaymentRefused) as refused:
        issuer.verify(Challenge.from_json(fields), NOW)
    assert refused.value.code == code


def test_another_servers_challenge_is_refused() -> None:
    theirs = ChallengeIssuer(b"t" * 32, "flowtape", 300).issue(REQUEST, NOW)
    with pytest.raises(PaymentRefused, match="challenge_forged"):
        ChallengeIssuer(SECRET, "flowtape", 300).verify(theirs, NOW)


def test_a_challenge_is_refused_from_its_expiry_on() -> None:
    issuer = ChallengeIssuer(SECRET, "flowtape", 300)
    challenge = issuer.issue(REQUEST, NOW)
    issuer.verify(challenge, NOW + 299)
    with pytest.raises(PaymentRefused, match="challenge_expired"):
        issuer.verify(challenge, NOW + 300)


def test_a_credential_round_trips_and_identical_ones_share_a_digest() -> None:
    challenge = ChallengeIssuer(SECRET, "flowtape", 300).issue(REQUEST, NOW)
    header = Credential.encode(challenge, {"action": "voucher"}, "did:pkh:eip155:1:0xabc")
    credential = Credential.from_header(header)
    assert credential.challenge == challenge
    assert credential.payload == {"action": "voucher"}
    assert credential.digest == Credential.from_header(header).digest
    other = Credential.encode(challenge, {"action": "close"}, "did:pkh:eip155:1:0xabc")
    assert Credential.from_header(other).digest != credential.digest


@pytest.mark.parametrize(
    "header",
    ["Bearer abc", "Payment", "Payment !!!", "Payment " + base64.urlsafe_b64encode(b"[1]").decode(),
     "Payment " + base64.urlsafe_b64encode(b'{"challenge": {}, "payload": {}}').decode()],
)  # fmt: skip
def test_a_malformed_credential_is_refused_with_a_code(header: str) -> None:
    with pytest.raises(PaymentRefused) as refused:
        Credential.from_header(header)
    assert refused.value.code == "malformed"
    assert str(refused.value).startswith("[malformed] ")
