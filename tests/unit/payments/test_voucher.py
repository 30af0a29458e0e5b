"""EIP-712 vouchers: the digest is the standard's, the signer is recovered, and any change of
key, channel, amount, chain or escrow changes who appears to have signed."""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_account import Account
from eth_utils import keccak

from payments.errors import PaymentRefused
from payments.voucher import Voucher, sign_voucher, voucher_message, voucher_signer

PAYER = Account.from_key("0x" + "11" * 32)
CHAIN = 42431
ESCROW = "0x" + "ab" * 20
CHANNEL = bytes(range(32))


def _hand_digest(chain_id: int, escrow: str, channel: bytes, amount: int) -> bytes:
    """EIP-712 written out from the standard, independently of eth_account."""
    domain_type = keccak(
        text="EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    )
    domain = keccak(
        encode(
            ["bytes32", "bytes32", "bytes32", "uint256", "address"],
            [domain_type, keccak(text="Tempo Stream Channel"), keccak(text="1"), chain_id, escrow],
        )
    )
    voucher_type = keccak(text="Voucher(bytes32 channelId,uint128 cumulativeAmount)")
    struct = keccak(encode(["bytes32", "bytes32", "uint128"], [voucher_type, channel, amount]))
    return keccak(b"\x19\x01" + domain + struct)


def test_the_signed_digest_is_eip712_of_the_tempo_stream_channel_domain() -> None:
    message = voucher_message(CHAIN, ESCROW, CHANNEL, 5_000)
    assert keccak(b"\x19" + message.version + message.header + message.body) == _hand_digest(
        CHAIN, ESCROW, CHANNEL, 5_000
    )


def test_the_payers_signature_recovers_the_payer() -> None:
    voucher = sign_voucher(PAYER.key, CHAIN, ESCROW, CHANNEL, 5_000)
    assert len(voucher.signature) == 65
    assert voucher_signer(voucher, CHAIN, ESCROW) == PAYER.address


@pytest.mark.parametrize("changed", ["chain", "escrow", "channel", "amount"])
def test_a_voucher_read_under_other_terms_recovers_someone_else(changed: str) -> None:
    voucher = sign_voucher(PAYER.key, CHAIN, ESCROW, CHANNEL, 5_000)
    chain, escrow = CHAIN, ESCROW
    if changed == "chain":
        chain = 4217
    elif changed == "escrow":
        escrow = "0x" + "cd" * 20
    elif changed == "channel":
        voucher = Voucher(bytes(32), voucher.cumulative_amount, voucher.signature)
    else:
        voucher = Voucher(voucher.channel_id, 6_000, voucher.signature)
    assert voucher_signer(voucher, chain, escrow) != PAYER.address


def test_the_malleable_twin_of_a_signature_is_refused() -> None:
    voucher = sign_voucher(PAYER.key, CHAIN, ESCROW, CHANNEL, 5_000)
    order = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
    s = int.from_bytes(voucher.signature[32:64], "big")
    v = 55 - voucher.signature[64]  # 27 <-> 28
    twin = voucher.signature[:32] + (order - s).to_bytes(32, "big") + bytes([v])
    with pytest.raises(PaymentRefused, match="voucher_signature"):
        voucher_signer(Voucher(CHANNEL, 5_000, twin), CHAIN, ESCROW)


def test_the_json_form_round_trips() -> None:
    voucher = sign_voucher(PAYER.key, CHAIN, ESCROW, CHANNEL, 2**100)
    assert Voucher.from_json(voucher.as_json()) == voucher


@pytest.mark.parametrize(
    "change",
    [{"channelId": "0x1234"}, {"signature": "0xzz"}, {"cumulativeAmount": 5},
     {"cumulativeAmount": "-1"}, {"cumulativeAmount": str(2**128)}, {"channelId": None}],
)  # fmt: skip
def test_a_malformed_voucher_is_refused(change: dict[str, object]) -> None:
    payload = sign_voucher(PAYER.key, CHAIN, ESCROW, CHANNEL, 5_000).as_json() | change
    with pytest.raises(PaymentRefused, match="malformed"):
        Voucher.from_json(payload)
