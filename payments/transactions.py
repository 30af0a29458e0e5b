"""Sending a contract call as a transaction signed by a local key, and waiting for it."""

from __future__ import annotations

from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3
from web3.contract.contract import ContractFunction
from web3.exceptions import ContractCustomError, ContractLogicError

from payments.errors import PaymentUnavailable

RECEIPT_TIMEOUT_S = 120


class ChainRefused(PaymentUnavailable):
    """The contract reverted a transaction."""

    code = "chain_refused"


def _error_name(call: ContractFunction, exc: Exception) -> str:
    """The contract's custom error a revert carries, by its selector; else the message."""
    text = str(exc) + " " + repr(getattr(exc, "data", ""))
    for entry in call.contract_abi:
        if entry.get("type") == "error":
            signature = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
            selector = Web3.keccak(text=signature)[:4]
            if selector.hex() in text or repr(bytes(selector))[2:-1] in text:
                return str(entry["name"])
    return str(exc)


def send(w3: Web3, account: LocalAccount, call: ContractFunction) -> dict[str, Any]:
    """Sign `call` with `account`, send it, and return its receipt; a revert (at estimation
    or in the block) raises ChainRefused naming the function."""
    name = call.fn_name
    try:
        tx = call.build_transaction(
            {
                "from": account.address,
                "nonce": w3.eth.get_transaction_count(account.address, "pending"),
                "chainId": int(w3.eth.chain_id),
            }
        )
    except Exception as exc:
        # web3 raises its own errors for a node's revert; local test chains raise theirs, all
        # saying "execution reverted" as the JSON-RPC convention has it.
        if not isinstance(exc, ContractLogicError | ContractCustomError) and (
            "execution reverted" not in str(exc)
        ):
            raise
        raise ChainRefused(f"{name} reverted: {_error_name(call, exc)}") from exc
    signed = account.sign_transaction(tx)
    tx_hash = w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = dict(w3.eth.wait_for_transaction_receipt(tx_hash, timeout=RECEIPT_TIMEOUT_S))
    if receipt["status"] != 1:
        raise ChainRefused(f"{name} reverted in transaction 0x{tx_hash.hex()}")
    return receipt
