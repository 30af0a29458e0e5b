"""The escrow double on a local EVM: the channel's money moves exactly as the vouchers say.

Expected balances are computed by hand from the deposit and the voucher amounts.
"""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from payments.channel import PayerChannel, open_channel, request_close, withdraw
from payments.transactions import ChainRefused
from payments.voucher import Voucher, sign_voucher, voucher_message
from tests.integration.payments.chain import LocalChain

DEPOSIT = 60_000  # sixty payments of 0.001 at 6 decimals
FUNDS = 100_000


def _open(chain: LocalChain) -> tuple[PayerChannel, LocalAccount, LocalAccount]:
    payer, payee = chain.account(FUNDS), chain.account()
    channel = open_channel(
        chain.w3, payer, escrow=chain.escrow_contract.address, currency=chain.token.address,
        payee=payee.address, deposit=DEPOSIT,
    )  # fmt: skip
    return channel, payer, payee


def _voucher(channel: PayerChannel, amount: int, key: bytes | None = None) -> Voucher:
    signer_key = key if key is not None else channel.signer.key
    return sign_voucher(signer_key, channel.chain_id, channel.escrow, channel.channel_id, amount)


def test_open_takes_the_deposit_into_the_escrow(chain: LocalChain) -> None:
    channel, payer, payee = _open(chain)
    assert chain.balance(payer.address) == FUNDS - DEPOSIT
    held = chain.escrow(None).channel(channel.channel_id)
    assert (held.deposit, held.settled, held.finalized) == (DEPOSIT, 0, False)
    assert (held.payer, held.payee, held.authorized_signer) == (
        payer.address, payee.address, payer.address,
    )  # fmt: skip


def test_the_contract_digest_is_the_eip712_digest_eth_account_signs(chain: LocalChain) -> None:
    channel, _, _ = _open(chain)
    message = voucher_message(channel.chain_id, channel.escrow, channel.channel_id, 7_000)
    ours = bytes(b"\x19" + message.version + message.header + message.body)
    on_chain = chain.escrow_contract.functions.getVoucherDigest(channel.channel_id, 7_000).call()
    assert bytes(on_chain) == keccak(ours)


def test_close_with_a_voucher_pays_the_payee_exactly_and_refunds_the_rest(
    chain: LocalChain,
) -> None:
    channel, payer, payee = _open(chain)
    escrow = chain.escrow(payee)
    escrow.settle(_voucher(channel, 3_000))
    assert chain.balance(payee.address) == 3_000
    escrow.close(_voucher(channel, 5_000))
    assert chain.balance(payee.address) == 5_000
    assert chain.balance(payer.address) == FUNDS - 5_000
    assert escrow.channel(channel.channel_id).finalized


REFUSALS = {
    "another key": "InvalidSignature",
    "above the deposit": "AmountExceedsDeposit",
    "not above the settled amount": "AmountNotIncreasing",
    "sent by the payer": "NotPayee",
}


@pytest.mark.parametrize("case", REFUSALS)
def test_the_contract_refuses_what_the_channel_does_not_allow(chain: LocalChain, case: str) -> None:
    channel, payer, payee = _open(chain)
    escrow = chain.escrow(payee)
    escrow.settle(_voucher(channel, 2_000))
    if case == "another key":
        voucher = _voucher(channel, 3_000, key=chain.account().key)
    elif case == "above the deposit":
        voucher = _voucher(channel, DEPOSIT + 1_000)
    else:
        voucher = _voucher(channel, 2_000 if case != "sent by the payer" else 3_000)
    if case == "sent by the payer":
        escrow = chain.escrow(payer)
    with pytest.raises(ChainRefused, match=REFUSALS[case]):
        escrow.settle(voucher)
    assert chain.balance(payee.address) == 2_000


def test_payer_withdraws_the_unsettled_rest_only_after_the_grace_period(
    chain: LocalChain,
) -> None:
    channel, payer, payee = _open(chain)
    chain.escrow(payee).settle(_voucher(channel, 4_000))
    request_close(chain.w3, payer, channel)
    grace = chain.escrow(None).grace_period_s()
    with pytest.raises(ChainRefused, match="CloseNotReady"):
        withdraw(chain.w3, payer, channel)
    chain.travel(grace - 30)
    with pytest.raises(ChainRefused, match="CloseNotReady"):
        withdraw(chain.w3, payer, channel)
    chain.travel(60)
    withdraw(chain.w3, payer, channel)
    assert chain.balance(payer.address) == FUNDS - 4_000
    assert chain.balance(payee.address) == 4_000
    assert chain.escrow(None).channel(channel.channel_id).finalized


def test_payee_can_still_close_inside_the_grace_period(chain: LocalChain) -> None:
    channel, payer, payee = _open(chain)
    request_close(chain.w3, payer, channel)
    chain.travel(chain.escrow(None).grace_period_s() - 60)
    chain.escrow(payee).close(_voucher(channel, 9_000))
    assert chain.balance(payee.address) == 9_000
    assert chain.balance(payer.address) == FUNDS - 9_000
    with pytest.raises(ChainRefused, match="ChannelFinalized"):
        withdraw(chain.w3, payer, channel)
