"""A local EVM (web3's EthereumTesterProvider on py-evm) with the escrow and token doubles.

`LocalChain.start()` deploys both from payments/contracts/build; accounts are eth_account
keys funded with gas money from the tester's own account and minted tokens.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from web3 import EthereumTesterProvider, Web3
from web3.contract import Contract
from web3.types import RPCEndpoint, RPCResponse

from payments.config import Network
from payments.escrow import ESCROW_CONTRACT, STABLE_COIN_CONTRACT, Escrow, artefact
from payments.transactions import send

GAS_MONEY_WEI = 10**18


class SerialProvider(EthereumTesterProvider):
    """The tester provider one request at a time: py-evm is not thread-safe, and the API
    server's calls (in worker threads) meet the test's own on one chain."""

    def __init__(self) -> None:
        super().__init__()
        self.lock = threading.RLock()

    def make_request(self, method: RPCEndpoint, params: Any) -> RPCResponse:
        with self.lock:
            return super().make_request(method, params)


@dataclass
class LocalChain:
    w3: Web3
    provider: SerialProvider
    escrow_contract: Contract
    token: Contract

    @classmethod
    def start(cls) -> LocalChain:
        provider = SerialProvider()
        w3 = Web3(provider)
        deployer = w3.eth.accounts[0]
        deployed = []
        for name in (ESCROW_CONTRACT, STABLE_COIN_CONTRACT):
            abi, bytecode = artefact(name)
            tx = (
                w3.eth.contract(abi=abi, bytecode=bytecode)
                .constructor()
                .transact({"from": deployer})
            )
            address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
            deployed.append(w3.eth.contract(address=address, abi=abi))
        return cls(w3, provider, deployed[0], deployed[1])

    def network(self) -> Network:
        return Network(
            "local", int(self.w3.eth.chain_id), "", self.escrow_contract.address,
            self.token.address,
        )  # fmt: skip

    def account(self, tokens: int = 0) -> LocalAccount:
        """A new key with gas money and `tokens` token units."""
        account: LocalAccount = Account.create()
        self.w3.eth.send_transaction(
            {"from": self.w3.eth.accounts[0], "to": account.address, "value": GAS_MONEY_WEI}
        )
        if tokens:
            send(self.w3, account, self.token.functions.mint(account.address, tokens))
        return account

    def escrow(self, payee: LocalAccount | None) -> Escrow:
        return Escrow(self.w3, self.escrow_contract.address, payee)

    def balance(self, address: str) -> int:
        return int(self.token.functions.balanceOf(address).call())

    def now_s(self) -> int:
        return int(self.w3.eth.get_block("latest")["timestamp"])

    def travel(self, seconds: int) -> None:
        """Move the chain's clock forward and mine a block there."""
        tester = self.provider.ethereum_tester
        with self.provider.lock:
            tester.time_travel(self.now_s() + seconds)
            tester.mine_blocks(1)
