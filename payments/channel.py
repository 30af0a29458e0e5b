"""The payer's on-chain calls: open a channel (approve, then open), top up, request a
close, withdraw after the grace period."""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from payments.escrow import ESCROW_CONTRACT, STABLE_COIN_CONTRACT, artefact
from payments.transactions import send


@dataclass(frozen=True, slots=True)
class PayerChannel:
    """A channel as its payer knows it: where it lives and who signs its vouchers."""

    channel_id: bytes
    chain_id: int
    escrow: str
    signer: LocalAccount


def _escrow(w3: Web3, escrow: str) -> Contract:
    abi, _ = artefact(ESCROW_CONTRACT)
    return w3.eth.contract(address=Web3.to_checksum_address(escrow), abi=abi)


def _token(w3: Web3, currency: str) -> Contract:
    abi, _ = artefact(STABLE_COIN_CONTRACT)
    return w3.eth.contract(address=Web3.to_checksum_address(currency), abi=abi)


def open_channel(
    w3: Web3,
    payer: LocalAccount,
    *,
    escrow: str,
    currency: str,
    payee: str,
    deposit: int,
    signer: LocalAccount | None = None,
) -> PayerChannel:
    """Approve the escrow for `deposit` and open a channel to `payee`; vouchers are signed by
    `signer` (the payer itself when None)."""
    escrow_contract, token = _escrow(w3, escrow), _token(w3, currency)
    signer = signer or payer
    salt = secrets.token_bytes(32)
    payee = Web3.to_checksum_address(payee)
    send(w3, payer, token.functions.approve(escrow_contract.address, deposit))
    call = escrow_contract.functions.open(payee, token.address, deposit, salt, signer.address)
    send(w3, payer, call)
    channel_id = escrow_contract.functions.computeChannelId(
        payer.address, payee, token.address, salt, signer.address
    ).call()
    return PayerChannel(bytes(channel_id), int(w3.eth.chain_id), escrow_contract.address, signer)


def top_up(
    w3: Web3, payer: LocalAccount, channel: PayerChannel, currency: str, amount: int
) -> None:
    escrow_contract, token = _escrow(w3, channel.escrow), _token(w3, currency)
    send(w3, payer, token.functions.approve(escrow_contract.address, amount))
    send(w3, payer, escrow_contract.functions.topUp(channel.channel_id, amount))


def request_close(w3: Web3, payer: LocalAccount, channel: PayerChannel) -> None:
    """Start the payer's unilateral exit: `withdraw` works once the grace period is over."""
    escrow_contract = _escrow(w3, channel.escrow)
    send(w3, payer, escrow_contract.functions.requestClose(channel.channel_id))


def withdraw(w3: Web3, payer: LocalAccount, channel: PayerChannel) -> None:
    escrow_contract = _escrow(w3, channel.escrow)
    send(w3, payer, escrow_contract.functions.withdraw(channel.channel_id))
