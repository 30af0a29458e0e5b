"""The server side of the session protocol on a local chain and a real Redis: what a
credential buys, every refusal the issue lists, a restart between voucher and minute, and
the settler claiming before a payer's exit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from eth_account.signers.local import LocalAccount

from payments.channel import request_close, withdraw
from payments.errors import PaymentRefused
from payments.gateway import PaymentGateway, receipt_from_header
from payments.settlement import Settler
from payments.transactions import ChainRefused
from payments.voucher import Voucher
from tests.conftest import Servers
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.session import DEPOSIT, FUNDS, PRICE, Clock, Payer, gateway


@pytest_asyncio.fixture
async def clock() -> Clock:
    return Clock()


@pytest_asyncio.fixture
async def gw(
    chain: LocalChain, payee: LocalAccount, servers: Servers, clock: Clock
) -> AsyncIterator[PaymentGateway]:
    served = gateway(chain, payee, servers.redis_url, clock)
    await served.ledger.client.flushdb()
    yield served
    await served.ledger.close()


async def pay(gw: PaymentGateway, payer: Payer, action: str, amount: int, **terms: object):  # type: ignore[no-untyped-def]
    challenge = gw.challenge("CL")
    return await gw.redeem(
        "CL", payer.credential(challenge, action, payer.voucher(amount, **terms))
    )


async def test_skills_name_the_price_network_and_method(
    gw: PaymentGateway, chain: LocalChain
) -> None:
    catalog = gw.catalog()
    assert catalog["symbols"] == ["CL"]
    assert (catalog["pricePerMinute"], catalog["minutesPerPayment"], catalog["amount"]) == (
        "0.001", 1, "1000",
    )  # fmt: skip
    assert catalog["network"]["escrowContract"] == chain.escrow_contract.address
    assert catalog["network"]["chainId"] == chain.w3.eth.chain_id
    assert catalog["paymentMethod"] == {"method": "tempo", "intent": "session"}


async def test_the_challenge_asks_for_the_price_in_the_token_to_the_payee(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    requested = gw.challenge("CL").requested()
    assert requested == {
        "amount": "1000", "currency": chain.token.address, "recipient": payee.address,
        "methodDetails": {"chainId": chain.w3.eth.chain_id,
                          "escrowContract": chain.escrow_contract.address},
        "suggestedDeposit": "60000", "unitType": "minute",
    }  # fmt: skip


async def test_open_then_vouchers_buy_minutes_and_tokens_until_the_paid_time(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount, clock: Clock
) -> None:
    payer = Payer.open(chain, payee.address)
    opened = await pay(gw, payer, "open", PRICE)
    assert opened.minutes == 1
    start = opened.expires_s - 60
    assert abs(start - clock()) < 2
    grant = gw.verify_token(opened.token, "CL")
    assert (grant.channel_id, grant.expires_s) == (
        "0x" + payer.channel.channel_id.hex(),
        start + 60,
    )
    second = await pay(gw, payer, "voucher", 3 * PRICE)
    assert (second.minutes, second.expires_s) == (2, start + 180)
    receipt = receipt_from_header(second.header())
    assert receipt["acceptedCumulativeAmount"] == "3000"
    assert receipt["challengeId"] == second.challenge_id


REFUSALS = {
    "signed by another key": ("voucher_signer", {"key": "other"}),
    "for another channel": ("voucher_signer", {"channel_id": bytes(32)}),
    "for another chain": ("voucher_signer", {"chain_id": 4217}),
    "a lower cumulative amount": ("voucher_not_increasing", {"amount": PRICE}),
    "above the deposit": ("voucher_exceeds_deposit", {"amount": DEPOSIT + PRICE}),
}


@pytest.mark.parametrize("case", REFUSALS)
async def test_a_voucher_the_channel_does_not_allow_is_refused_and_buys_nothing(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount, case: str
) -> None:
    payer = Payer.open(chain, payee.address)
    paid = await pay(gw, payer, "open", 2 * PRICE)
    code, terms = REFUSALS[case]
    amount = int(terms.pop("amount", 3 * PRICE))  # type: ignore[call-overload]
    if terms.get("key") == "other":
        terms["key"] = chain.account().key
    challenge = gw.challenge("CL")
    # The voucher is presented as one for the payer's own channel whatever it was signed for.
    voucher = payer.voucher(amount, **terms)
    presented = Voucher(payer.channel.channel_id, voucher.cumulative_amount, voucher.signature)
    with pytest.raises(PaymentRefused) as refused:
        await gw.redeem("CL", payer.credential(challenge, "voucher", presented))
    assert refused.value.code == code
    state = await gw.ledger.channel("0x" + payer.channel.channel_id.hex())
    assert state is not None and (state.cumulative, state.paid_until_s) == (
        2 * PRICE,
        paid.expires_s,
    )


async def test_a_replayed_challenge_is_refused(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    payer = Payer.open(chain, payee.address)
    challenge = gw.challenge("CL")
    await gw.redeem("CL", payer.credential(challenge, "open", payer.voucher(PRICE)))
    with pytest.raises(PaymentRefused, match="challenge_replayed"):
        await gw.redeem("CL", payer.credential(challenge, "voucher", payer.voucher(2 * PRICE)))


async def test_an_expired_challenge_is_refused(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount, clock: Clock
) -> None:
    payer = Payer.open(chain, payee.address)
    challenge = gw.challenge("CL")
    clock.advance(gw.config.challenge_ttl_s)
    with pytest.raises(PaymentRefused, match="challenge_expired"):
        await gw.redeem("CL", payer.credential(challenge, "open", payer.voucher(PRICE)))


async def test_a_voucher_before_open_and_a_channel_to_someone_else_are_refused(
    gw: PaymentGateway, chain: LocalChain
) -> None:
    elsewhere = Payer.open(chain, chain.account().address)
    with pytest.raises(PaymentRefused, match="channel_unknown"):
        await pay(gw, elsewhere, "voucher", PRICE)
    with pytest.raises(PaymentRefused, match="channel_invalid"):
        await pay(gw, elsewhere, "open", PRICE)


async def test_a_token_is_for_its_symbol_and_a_channel_pays_for_one_symbol(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    payer = Payer.open(chain, payee.address)
    opened = await pay(gw, payer, "open", PRICE)
    with pytest.raises(PaymentRefused, match="token_symbol"):
        gw.verify_token(opened.token, "ES")
    with pytest.raises(PaymentRefused, match="unknown_symbol"):
        gw.challenge("ES")


async def test_a_restart_between_voucher_and_minute_serves_no_free_minute_and_charges_once(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount, servers: Servers, clock: Clock
) -> None:
    payer = Payer.open(chain, payee.address)
    payee_before = chain.balance(payee.address)
    await pay(gw, payer, "open", PRICE)
    # The second voucher is accepted and stored; the reply is lost with the server.
    challenge = gw.challenge("CL")
    credential = payer.credential(challenge, "voucher", payer.voucher(2 * PRICE))
    lost = await gw.redeem("CL", credential)
    await gw.ledger.close()
    restarted = gateway(chain, payee, servers.redis_url, clock)
    try:
        # The client retries the very same credential: the same paid time, nothing bought.
        retried = await restarted.redeem("CL", credential)
        assert (retried.minutes, retried.expires_s, retried.cumulative) == (
            0,
            lost.expires_s,
            2 * PRICE,
        )
        # An equal voucher under a fresh challenge is a retry too.
        again = await pay(restarted, payer, "voucher", 2 * PRICE)
        assert (again.minutes, again.expires_s) == (0, lost.expires_s)
        # Past the paid time the token stops: the restart granted no minute.
        clock.advance(lost.expires_s - clock() + 1)
        with pytest.raises(PaymentRefused, match="token_expired"):
            restarted.verify_token(retried.token, "CL")
        # Closing settles two payments on-chain, not three: the retry was charged once.
        closed = await pay(restarted, payer, "close", 2 * PRICE)
        assert closed.cumulative == 2 * PRICE
        assert chain.balance(payee.address) == payee_before + 2 * PRICE
        assert chain.balance(payer.account.address) == FUNDS - 2 * PRICE
    finally:
        await restarted.ledger.close()


async def test_the_settler_claims_inside_the_grace_period_of_a_close_request(
    gw: PaymentGateway, chain: LocalChain, payee: LocalAccount
) -> None:
    payer = Payer.open(chain, payee.address)
    await pay(gw, payer, "open", 3 * PRICE)
    settler = Settler(gw.ledger, gw.escrow, interval_s=60)
    payee_before = chain.balance(payee.address)
    settled = await settler.run_once()
    assert [(a.action, a.amount) for a in settled] == [("settled", 3 * PRICE)]
    assert chain.balance(payee.address) == payee_before + 3 * PRICE
    await pay(gw, payer, "voucher", 5 * PRICE)
    request_close(chain.w3, payer.account, payer.channel)
    chain.travel(60)  # well inside CLOSE_GRACE_PERIOD
    claimed = await settler.run_once()
    assert [(a.action, a.amount) for a in claimed] == [("claimed", 5 * PRICE)]
    assert chain.balance(payee.address) == payee_before + 5 * PRICE
    assert chain.balance(payer.account.address) == FUNDS - 5 * PRICE
    assert await gw.ledger.open_channels() == []
    chain.travel(gw.escrow.grace_period_s())
    with pytest.raises(ChainRefused, match="ChannelFinalized"):
        withdraw(chain.w3, payer.account, payer.channel)
