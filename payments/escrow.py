"""The escrow contract through web3: read a channel, settle and close it with the payee key.

The ABI is the build artefact of payments/contracts (compiled by the pinned npm `solc`,
`make install`); the contract there is a test double with the ABI of Tempo's stream-channel
escrow, and the same calls reach the real one. web3's calls block: the API runs them in a
thread, one at a time per `Escrow` (a provider need not be thread-safe).
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract import Contract

from payments.transactions import send
from payments.voucher import Voucher
from schemas.errors import ConfigError

CONTRACTS = Path(__file__).resolve().parent / "contracts"
ARTEFACTS = CONTRACTS / "build"
ESCROW_CONTRACT = "StreamChannelEscrow"
STABLE_COIN_CONTRACT = "StableToken"


def artefact(name: str) -> tuple[list[dict[str, Any]], str]:
    """The (ABI, bytecode) of a compiled contract of payments/contracts."""
    path = ARTEFACTS / f"{name}.json"
    if not path.is_file():
        raise ConfigError(
            f"expected the compiled contract at {path}: run `make install` (npm's solc builds it)"
        )
    compiled = json.loads(path.read_text())
    return compiled["abi"], compiled["bytecode"]


@dataclass(frozen=True, slots=True)
class OnChainChannel:
    """`getChannel` as the contract holds it (addresses checksummed)."""

    finalized: bool
    close_requested_at: int
    payer: str
    payee: str
    token: str
    authorized_signer: str
    deposit: int
    settled: int

    @property
    def exists(self) -> bool:
        return int(self.payer, 16) != 0


class Escrow:
    """One escrow contract on one chain, acting as the payee when it sends transactions."""

    def __init__(self, w3: Web3, address: str, payee: LocalAccount | None = None) -> None:
        abi, _ = artefact(ESCROW_CONTRACT)
        self.w3 = w3
        self.address = Web3.to_checksum_address(address)
        self.contract: Contract = w3.eth.contract(address=self.address, abi=abi)
        self.payee = payee
        self._lock = threading.Lock()

    def chain_id(self) -> int:
        with self._lock:
            return int(self.w3.eth.chain_id)

    def channel(self, channel_id: bytes) -> OnChainChannel:
        with self._lock:
            fields = self.contract.functions.getChannel(channel_id).call()
        finalized, requested, payer, payee, token, signer, deposit, settled = fields
        return OnChainChannel(
            bool(finalized), int(requested), payer, payee, token, signer, int(deposit), int(settled)
        )

    def grace_period_s(self) -> int:
        with self._lock:
            return int(self.contract.functions.CLOSE_GRACE_PERIOD().call())

    def settle(self, voucher: Voucher) -> None:
        """Take what `voucher` promises, the channel staying open."""
        self._send("settle", voucher.channel_id, voucher.cumulative_amount, voucher.signature)

    def close(self, voucher: Voucher) -> None:
        """Take what `voucher` promises and refund the rest of the deposit to the payer."""
        self._send("close", voucher.channel_id, voucher.cumulative_amount, voucher.signature)

    def _send(self, function: str, *args: object) -> None:
        if self.payee is None:
            raise ConfigError("the escrow client has no payee key (MPP_RECIPIENT_KEY)")
        with self._lock:
            send(self.w3, self.payee, getattr(self.contract.functions, function)(*args))
