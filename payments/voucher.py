"""EIP-712 vouchers: `Voucher(bytes32 channelId, uint128 cumulativeAmount)` signed under the
domain {name "Tempo Stream Channel", version "1", chainId, verifyingContract = escrow}.

The escrow recomputes the same digest and `ecrecover`s the signer, so a voucher this module
accepts is one the contract accepts: 65 bytes, v 27 or 28, s in the lower half of the curve
order (the other half is the malleable twin the contract refuses).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.messages import SignableMessage, encode_typed_data
from eth_keys.exceptions import BadSignature
from web3 import Web3

from payments.errors import PaymentRefused

DOMAIN_NAME = "Tempo Stream Channel"
DOMAIN_VERSION = "1"
UINT128_MAX = 2**128 - 1
_HALF_ORDER = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_TYPES = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Voucher": [
        {"name": "channelId", "type": "bytes32"},
        {"name": "cumulativeAmount", "type": "uint128"},
    ],
}


@dataclass(frozen=True, slots=True)
class Voucher:
    """A signed promise: the payee may take `cumulative_amount` in all from the channel."""

    channel_id: bytes
    cumulative_amount: int
    signature: bytes

    def as_json(self) -> dict[str, str]:
        return {
            "channelId": "0x" + self.channel_id.hex(),
            "cumulativeAmount": str(self.cumulative_amount),
            "signature": "0x" + self.signature.hex(),
        }

    @classmethod
    def from_json(cls, payload: dict[str, Any]) -> Voucher:
        """The voucher in a credential's payload; refused when a field is malformed."""
        channel_id = _hex_bytes(payload.get("channelId"), "channelId", 32)
        signature = _hex_bytes(payload.get("signature"), "signature", 65)
        amount = payload.get("cumulativeAmount")
        # isdigit alone accepts other scripts' digits and superscripts, which int() refuses.
        if not isinstance(amount, str) or not (amount.isascii() and amount.isdigit()):
            raise PaymentRefused(
                f"cumulativeAmount must be a decimal string, got {amount!r:.40}", code="malformed"
            )
        if int(amount) > UINT128_MAX:
            raise PaymentRefused("cumulativeAmount exceeds uint128", code="malformed")
        return cls(channel_id, int(amount), signature)


def channel_id_bytes(value: object) -> bytes:
    return _hex_bytes(value, "channelId", 32)


def _hex_bytes(value: object, what: str, length: int) -> bytes:
    text = value[2:] if isinstance(value, str) and value.startswith("0x") else None
    try:
        data = bytes.fromhex(text) if text is not None else b""
    except ValueError:
        data = b""
    if len(data) != length:
        raise PaymentRefused(f"{what} must be 0x and {length} hex bytes", code="malformed")
    return data


def voucher_message(
    chain_id: int, escrow: str, channel_id: bytes, cumulative_amount: int
) -> SignableMessage:
    """The EIP-712 message of a voucher (what is signed and what the contract digests)."""
    return encode_typed_data(
        full_message={
            "types": _TYPES,
            "primaryType": "Voucher",
            "domain": {
                "name": DOMAIN_NAME,
                "version": DOMAIN_VERSION,
                "chainId": chain_id,
                "verifyingContract": Web3.to_checksum_address(escrow),
            },
            "message": {"channelId": channel_id, "cumulativeAmount": cumulative_amount},
        }
    )


def sign_voucher(
    private_key: bytes | str, chain_id: int, escrow: str, channel_id: bytes, cumulative_amount: int
) -> Voucher:
    """The voucher for `cumulative_amount` signed with `private_key` (the payer's side)."""
    message = voucher_message(chain_id, escrow, channel_id, cumulative_amount)
    signed = Account.sign_message(message, private_key)
    return Voucher(channel_id, cumulative_amount, bytes(signed.signature))


def voucher_signer(voucher: Voucher, chain_id: int, escrow: str) -> str:
    """The checksummed address that signed `voucher` for this chain and escrow; refused for a
    signature the contract's `ecrecover` check would refuse."""
    signature = voucher.signature
    v = signature[64]
    if v not in (27, 28) or int.from_bytes(signature[32:64], "big") > _HALF_ORDER:
        raise PaymentRefused("the voucher's signature is not canonical", code="voucher_signature")
    message = voucher_message(chain_id, escrow, voucher.channel_id, voucher.cumulative_amount)
    try:
        return str(Account.recover_message(message, signature=signature))
    except (BadSignature, ValueError) as exc:
        raise PaymentRefused(
            "the voucher's signature does not recover", code="voucher_signature"
        ) from exc
