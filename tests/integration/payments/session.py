"""A gateway on the local chain and the session's Redis, and a payer with an open channel."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx
from eth_account.signers.local import LocalAccount

from payments.challenge import Challenge
from payments.channel import PayerChannel, open_channel
from payments.client import AlphaSubscriber, payment_credential
from payments.config import PaymentConfig
from payments.gateway import PaymentGateway
from payments.ledger import Ledger
from payments.voucher import Voucher, sign_voucher
from tests.integration.api.conftest import Api
from tests.integration.payments.chain import LocalChain

PRICE = 1_000  # MPP_AMOUNT 0.001 at 6 decimals
DEPOSIT = 10 * PRICE
FUNDS = 100 * PRICE


class Clock:
    """A wall clock that runs `speed` times faster than time.time from its start (a paid
    minute passes in 60/speed seconds), or stands still where it is `set`."""

    def __init__(self, speed: float = 1.0) -> None:
        self.speed = speed
        self.origin = time.time()
        self.offset = 0.0

    def __call__(self) -> float:
        return self.origin + (time.time() - self.origin) * self.speed + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


def gateway(
    chain: LocalChain, payee: LocalAccount, redis_url: str, clock: Clock, **env: str
) -> PaymentGateway:
    config = PaymentConfig(_env_file=None, MPP_SECRET_KEY="s" * 40, **env)  # type: ignore[call-arg]
    return PaymentGateway(
        config, chain.network(), Ledger.connect(redis_url), chain.escrow(payee), clock=clock
    )


@dataclass
class Payer:
    account: LocalAccount
    channel: PayerChannel

    @classmethod
    def open(cls, chain: LocalChain, payee: str, deposit: int = DEPOSIT) -> Payer:
        account = chain.account(FUNDS)
        channel = open_channel(
            chain.w3, account, escrow=chain.escrow_contract.address,
            currency=chain.token.address, payee=payee, deposit=deposit,
        )  # fmt: skip
        return cls(account, channel)

    def voucher(self, amount: int, key: bytes | None = None, **terms: object) -> Voucher:
        chain_id = int(terms.get("chain_id", self.channel.chain_id))  # type: ignore[call-overload]
        channel_id = terms.get("channel_id", self.channel.channel_id)
        assert isinstance(channel_id, bytes)
        return sign_voucher(
            key if key is not None else self.account.key, chain_id, self.channel.escrow,
            channel_id, amount,
        )  # fmt: skip

    def credential(self, challenge: Challenge, action: str, voucher: Voucher) -> str:
        return payment_credential(
            challenge, action, voucher, self.account.address, self.channel.chain_id
        )


def subscriber(api: Api, payer: Payer, http: httpx.AsyncClient) -> AlphaSubscriber:
    return AlphaSubscriber(api.base_url, "CL", payer.channel, payer.account.address, http)


async def paid_once(api: Api, chain: LocalChain, payee: LocalAccount) -> AlphaSubscriber:
    """A subscriber that opened a channel and paid one minute (its token in hand)."""
    payer = Payer.open(chain, payee.address)
    async with httpx.AsyncClient(timeout=30) as http:
        client = subscriber(api, payer, http)
        await client.pay()
    return client
