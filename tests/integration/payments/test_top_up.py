"""Topping up a channel on the local chain: the `topUp` action makes the gateway read the
grown deposit, a `topUp` the chain does not back buys nothing, and the close settles the
spent amount and refunds the rest of the grown deposit."""

from __future__ import annotations

from collections.abc import AsyncIterator
from functools import partial

import httpx
import pytest
import pytest_asyncio
from eth_account.signers.local import LocalAccount

from payments.channel import top_up
from payments.errors import PaymentRefused
from payments.gateway import PaymentGateway, Receipt, receipt_from_header
from tests.conftest import Servers
from tests.integration.api.conftest import Api
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.session import (
    DEPOSIT,
    FUNDS,
    PRICE,
    Clock,
    Payer,
    gateway,
    subscriber,
)

GROWTH = 5 * PRICE


@pytest_asyncio.fixture
async def gw(
    chain: LocalChain, payee: LocalAccount, servers: Servers
) -> AsyncIterator[PaymentGateway]:
    served = gateway(chain, payee, servers.redis_url, Clock())
    await served.ledger.client.flushdb()
    yield served
    await served.ledger.close()


async def redeem(gw: PaymentGateway, payer: Payer, action: str, amount: int) -> Receipt:
    credential = payer.credential(gw.challenge("CL"), action, payer.voucher(amount))
    return await gw.redeem("CL", credential)


async def refused_code(gw: PaymentGateway, payer: Payer, action: str, amount: int) -> str:
    with pytest.raises(PaymentRefused) as refused:
        await redeem(gw, payer, action, amount)
    return refused.value.code


async def stored(gw: PaymentGateway, payer: Payer) -> tuple[int, int, int]:
    state = await gw.ledger.channel("0x" + payer.channel.channel_id.hex())
    assert state is not None
    return state.deposit, state.cumulative, state.paid_until_s


async def opened(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount, first: int
) -> tuple[Payer, int]:
    """A payer whose channel is open with a first voucher for `first`, and the payee's
    balance before it."""
    payer = Payer.open(chain, payee.address)
    payee_before = chain.balance(payee.address)
    await redeem(gw, payer, "open", first)
    return payer, payee_before


async def test_a_top_up_read_on_chain_buys_minutes_up_to_the_grown_deposit_and_close_refunds(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    payer, payee_before = await opened(gw, chain, payee, PRICE)
    spent = await redeem(gw, payer, "voucher", DEPOSIT)
    assert spent.minutes == DEPOSIT // PRICE - 1
    # The deposit is spent: one more payment is refused and buys nothing.
    assert await refused_code(gw, payer, "voucher", DEPOSIT + PRICE) == "voucher_exceeds_deposit"
    assert await stored(gw, payer) == (DEPOSIT, DEPOSIT, spent.expires_s)

    top_up(chain.w3, payer.account, payer.channel, chain.token.address, GROWTH)
    # A plain voucher does not make the server look at the chain again...
    assert await refused_code(gw, payer, "voucher", DEPOSIT + PRICE) == "voucher_exceeds_deposit"
    # ...a `topUp` does: the grown deposit is read there and the voucher buys its minute.
    topped = await redeem(gw, payer, "topUp", DEPOSIT + PRICE)
    assert (topped.minutes, topped.expires_s) == (1, spent.expires_s + 60)
    assert (await stored(gw, payer))[0] == DEPOSIT + GROWTH
    last = await redeem(gw, payer, "voucher", DEPOSIT + GROWTH)
    assert (last.minutes, last.expires_s) == (GROWTH // PRICE - 1, spent.expires_s + 60 * 5)
    code = await refused_code(gw, payer, "voucher", DEPOSIT + GROWTH + PRICE)
    assert code == "voucher_exceeds_deposit"

    closed = await redeem(gw, payer, "close", DEPOSIT + GROWTH)
    assert (closed.minutes, closed.cumulative) == (0, DEPOSIT + GROWTH)
    assert chain.balance(payee.address) == payee_before + DEPOSIT + GROWTH
    assert chain.balance(payer.account.address) == FUNDS - DEPOSIT - GROWTH


async def test_close_after_a_top_up_refunds_the_unspent_part_of_the_grown_deposit(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    payer, payee_before = await opened(gw, chain, payee, DEPOSIT)
    top_up(chain.w3, payer.account, payer.channel, chain.token.address, GROWTH)
    spent = DEPOSIT + 2 * PRICE
    await redeem(gw, payer, "topUp", spent)
    await redeem(gw, payer, "close", spent)
    onchain = gw.escrow.channel(payer.channel.channel_id)
    assert onchain.finalized and onchain.settled == spent
    assert chain.balance(payee.address) == payee_before + spent
    # The payer put DEPOSIT + GROWTH in and gets back all it did not spend.
    assert chain.balance(payer.account.address) == FUNDS - spent


async def test_a_top_up_the_chain_does_not_show_is_refused_and_buys_no_minute(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    payer = Payer.open(chain, payee.address)
    paid = await redeem(gw, payer, "open", DEPOSIT)
    # No topUp on-chain: the claimed growth is not there.
    assert await refused_code(gw, payer, "topUp", DEPOSIT + PRICE) == "voucher_exceeds_deposit"
    assert await stored(gw, payer) == (DEPOSIT, DEPOSIT, paid.expires_s)
    # A topUp for a channel to another payee is not read as growth of this server's channel.
    elsewhere = Payer.open(chain, chain.account().address)
    elsewhere_id = "0x" + elsewhere.channel.channel_id.hex()
    top_up(chain.w3, elsewhere.account, elsewhere.channel, chain.token.address, GROWTH)
    assert await refused_code(gw, elsewhere, "topUp", PRICE) == "channel_invalid"
    assert await gw.ledger.channel(elsewhere_id) is None


async def test_the_reference_client_tops_up_by_the_suggested_deposit_when_it_runs_out(
    paid_api: tuple[Api, PaymentGateway], chain: LocalChain, payee: LocalAccount
) -> None:
    api, gw = paid_api
    suggested = int(gw.terms()["suggestedDeposit"])
    payer = Payer.open(chain, payee.address, deposit=2 * PRICE)
    payee_before = chain.balance(payee.address)
    async with httpx.AsyncClient(timeout=30) as http:
        client = subscriber(api, payer, http)
        client.deposit = 2 * PRICE
        client.top_up = partial(top_up, chain.w3, payer.account, payer.channel, chain.token.address)
        for _ in range(3):
            await client.pay()
        actions = [receipt_from_header(r["receipt"])["action"] for r in client.receipts]
        assert actions == ["open", "voucher", "topUp"]
        onchain = gw.escrow.channel(payer.channel.channel_id)
        assert (onchain.deposit, client.deposit) == (2 * PRICE + suggested,) * 2
        await client.pay()  # inside the grown deposit: a plain voucher again
        await client.close()
    actions = [receipt_from_header(r["receipt"])["action"] for r in client.receipts]
    assert actions == ["open", "voucher", "topUp", "voucher", "close"]
    assert chain.balance(payee.address) == payee_before + 4 * PRICE
    assert chain.balance(payer.account.address) == FUNDS - 4 * PRICE
