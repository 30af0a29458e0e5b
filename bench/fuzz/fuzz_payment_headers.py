"""Fuzz the payment header parsers: `Authorization: Payment …` credentials (with their
challenge and voucher), `WWW-Authenticate: Payment …` challenges, stream tokens and
`Payment-Receipt` headers.

An input is one selector byte and the rest. Selectors:
0 an Authorization value, read as the gateway reads it before any ledger or chain call
  (`Credential.from_header`, the challenge check, `Voucher.from_json`, `voucher_signer`);
1 a WWW-Authenticate value (`Challenge.from_header`, its expiry and request);
2 a stream token as presented; 3 a token whose body is fuzzed but signed with the server's
  key, so the claims reach the parser behind the signature check;
4 a Payment-Receipt value;
5 a credential answering a genuine challenge, with fuzzed payload fields (the voucher).
The only accepted error is `PaymentRefused` (a FlowtapeError with a code).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import atheris
from fuzzing import run

with atheris.instrument_imports(include=["payments"]):
    from payments.challenge import Challenge, ChallengeIssuer, Credential
    from payments.encoding import b64url_encode
    from payments.gateway import receipt_from_header
    from payments.tokens import StreamGrant, StreamTokens
    from payments.voucher import Voucher, voucher_signer

NOW_S = 1_800_000_000
CHAIN_ID = 31337
ESCROW = "0x" + "ab" * 20
SECRET = b"fuzzing secret"
TERMS = {"amount": "1000", "currency": "0x" + "cd" * 20, "unit": "minute"}
_issuer = ChallengeIssuer(SECRET, "flowtape", 300)
_tokens = StreamTokens(SECRET)
_challenge = _issuer.issue(TERMS, NOW_S)


def one(data: bytes) -> list[str]:
    if not data:
        return []
    text = data[1:].decode("utf-8", "replace")
    selector = data[0] % 6
    if selector == 0:
        _credential(text)
    elif selector == 1:
        challenge = Challenge.from_header(text)
        _ = challenge.expires_s, challenge.requested()
    elif selector == 2:
        _tokens.verify(text, "ES", NOW_S)
    elif selector == 3:
        _tokens.verify(f"{b64url_encode(data[1:])}.{_tokens._sign(data[1:])}", "ES", NOW_S)
    elif selector == 4:
        receipt_from_header(text)
    else:
        _credential(_fuzzed_voucher(atheris.FuzzedDataProvider(data[1:])))
    return []


def _credential(header: str) -> None:
    credential = Credential.from_header(header)
    _issuer.verify(credential.challenge, NOW_S)
    credential.challenge.requested()
    voucher_signer(Voucher.from_json(credential.payload), CHAIN_ID, ESCROW)


def _fuzzed_voucher(fdp: atheris.FuzzedDataProvider) -> str:
    payload: dict[str, object] = {
        "action": fdp.PickValueInList(["open", "voucher", "topUp", "close", "x"]),
        "channelId": "0x" + fdp.ConsumeBytes(fdp.ConsumeIntInRange(0, 40)).hex(),
        "cumulativeAmount": fdp.ConsumeUnicode(fdp.ConsumeIntInRange(0, 48)),
        "signature": "0x" + fdp.ConsumeBytes(fdp.ConsumeIntInRange(60, 70)).hex(),
    }
    if fdp.ConsumeBool():
        payload["cumulativeAmount"] = str(fdp.ConsumeInt(17))
    return Credential.encode(_challenge, payload, "did:pkh:eip155:31337:" + ESCROW)


def seeds() -> Iterator[bytes]:
    payload = {
        "action": "voucher",
        "channelId": "0x" + "11" * 32,
        "cumulativeAmount": "2000",
        "signature": "0x" + "22" * 64 + "1b",
    }
    yield b"\x00" + Credential.encode(_challenge, payload, "did:pkh:eip155:1:0x00").encode()
    yield b"\x01" + _challenge.header().encode()
    token = _tokens.issue(StreamGrant("ES", "0x" + "11" * 32, NOW_S + 60))
    yield b"\x02" + token.encode()
    yield b"\x03" + json.dumps({"sym": "ES", "ch": "0x11", "exp": NOW_S + 60}).encode()
    receipt = {"status": "success", "channelId": "0x" + "11" * 32, "acceptedCumulative": "2000"}
    yield b"\x04" + b64url_encode(json.dumps(receipt).encode()).encode()
    yield b"\x05" + bytes(range(1, 120))


if __name__ == "__main__":
    run("payment_headers", one, seeds())
