"""The server side of the session protocol: catalog, challenges, credentials, tokens.

A credential's payload names an action: `open` (the channel exists on-chain: read it there)
with the first voucher, `voucher` (the next one), `topUp` (the deposit grew on-chain: read
it again) with a voucher, `close` with the last voucher (the server closes the channel
on-chain with the highest voucher it holds, settling the spent amount and refunding the
rest). Every accepted voucher is stored durably (payments.ledger) before the reply that
carries its stream token.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from web3 import Web3

from payments.accounting import ChannelState, Price, Purchase, apply_voucher
from payments.challenge import INTENT, METHOD, Challenge, ChallengeIssuer, Credential
from payments.config import Network, PaymentConfig
from payments.encoding import b64url_decode, b64url_encode, canonical_json, json_object
from payments.errors import PaymentRefused
from payments.escrow import Escrow, OnChainChannel
from payments.ledger import Ledger
from payments.tokens import StreamGrant, StreamTokens
from payments.voucher import Voucher, voucher_signer

ACTIONS = ("open", "voucher", "topUp", "close")


@dataclass(frozen=True, slots=True)
class Receipt:
    """What the server answers an accepted credential with."""

    symbol: str
    token: str
    expires_s: int
    minutes: int
    channel_id: str
    cumulative: int
    challenge_id: str
    action: str

    def as_json(self) -> dict[str, Any]:
        return {
            "ok": True,
            "symbol": self.symbol,
            "token": self.token,
            "expiresAt": self.expires_s,
            "minutes": self.minutes,
            "channelId": self.channel_id,
            "cumulativeAmount": str(self.cumulative),
        }

    def header(self) -> str:
        """The `Payment-Receipt` value: base64url canonical JSON."""
        body = {
            "status": "success", "method": METHOD, "intent": INTENT,
            "challengeId": self.challenge_id, "channelId": self.channel_id,
            "acceptedCumulativeAmount": str(self.cumulative), "action": self.action,
        }  # fmt: skip
        return b64url_encode(canonical_json(body))


class PaymentGateway:
    """Prices, verifies and records payments for the symbols it sells."""

    def __init__(
        self,
        config: PaymentConfig,
        network: Network,
        ledger: Ledger,
        escrow: Escrow,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if escrow.payee is None:
            raise ValueError("the gateway's escrow client needs the payee's key")
        self.config = config
        self.network = network
        self.ledger = ledger
        self.escrow = escrow
        self.recipient = escrow.payee.address
        self.price = Price(config.amount_units, config.minutes_per_payment)
        self.symbols = config.sold_symbols
        secret = config.hmac_secret()
        self.challenges = ChallengeIssuer(secret, config.realm, config.challenge_ttl_s)
        self.tokens = StreamTokens(secret)
        self.clock = clock

    def terms(self) -> dict[str, Any]:
        """The payment asked for, as a challenge's `request` carries it."""
        return {
            "amount": str(self.price.amount),
            "currency": Web3.to_checksum_address(self.network.currency),
            "methodDetails": {
                "chainId": self.network.chain_id,
                "escrowContract": Web3.to_checksum_address(self.network.escrow),
            },
            "recipient": self.recipient,
            "suggestedDeposit": str(
                self.price.amount
                * -(-self.config.suggested_minutes // self.price.minutes_per_payment)
            ),
            "unitType": "minute",
        }

    def catalog(self) -> dict[str, Any]:
        """`GET /skills`: what is sold, at what price, on which network."""
        return {
            "symbols": list(self.symbols),
            "pricePerMinute": self.config.amount,
            "minutesPerPayment": self.price.minutes_per_payment,
            "amount": str(self.price.amount),
            "tokenDecimals": self.config.token_decimals,
            "paymentMethod": {"method": METHOD, "intent": INTENT},
            "network": {
                "name": self.network.name,
                "chainId": self.network.chain_id,
                "escrowContract": Web3.to_checksum_address(self.network.escrow),
                "currency": Web3.to_checksum_address(self.network.currency),
                "recipient": self.recipient,
            },
        }

    def check_symbol(self, symbol: str) -> None:
        if symbol not in self.symbols:
            raise PaymentRefused(
                f"{symbol!r} is not sold here; the stream sells {', '.join(self.symbols)}",
                code="unknown_symbol",
                status=404,
            )

    def challenge(self, symbol: str) -> Challenge:
        self.check_symbol(symbol)
        return self.challenges.issue(self.terms(), self.clock())

    def verify_token(self, token: str, symbol: str) -> StreamGrant:
        return self.tokens.verify(token, symbol, self.clock())

    async def redeem(self, symbol: str, authorization: str) -> Receipt:
        """Accept the credential in an `Authorization: Payment …` value, or refuse it."""
        self.check_symbol(symbol)
        credential = Credential.from_header(authorization)
        now = self.clock()
        self.challenges.verify(credential.challenge, now)
        if credential.challenge.requested() != self.terms():
            raise PaymentRefused(
                "the challenge asks for other terms than the server's current ones",
                code="challenge_stale",
            )
        action = credential.payload.get("action")
        if action not in ACTIONS:
            raise PaymentRefused(
                f"payload action must be one of {', '.join(ACTIONS)}, got {action!r:.40}",
                code="malformed",
            )
        voucher = Voucher.from_json(credential.payload)
        # Off the event loop: recovering a signature is the costliest step of a payment.
        signer = await asyncio.to_thread(
            voucher_signer, voucher, self.network.chain_id, self.network.escrow
        )
        channel_id = "0x" + voucher.channel_id.hex()
        onchain = None
        if action in ("open", "topUp"):
            onchain = await asyncio.to_thread(self.escrow.channel, voucher.channel_id)
            self._check_onchain(onchain, channel_id)

        def decide(state: ChannelState | None) -> Purchase:
            if state is None:
                if onchain is None:
                    raise PaymentRefused(
                        f"channel {channel_id} is not open here: send an `open` credential first",
                        code="channel_unknown",
                    )
                state = ChannelState(
                    channel_id, symbol, onchain.payer, onchain.authorized_signer,
                    onchain.deposit, onchain.settled, 0, "", 0,
                )  # fmt: skip
            elif onchain is not None:
                state = replace(state, deposit=onchain.deposit, settled=onchain.settled)
            if state.symbol != symbol:
                raise PaymentRefused(
                    f"channel {channel_id} pays for {state.symbol}, not {symbol}",
                    code="channel_symbol",
                    status=403,
                )
            if not state.signer_allowed(signer):
                raise PaymentRefused(
                    f"the voucher was signed by {signer}, not by the channel's signer or payer"
                    " (another key, channel, chain or escrow)",
                    code="voucher_signer",
                )
            return apply_voucher(
                state, voucher.cumulative_amount, "0x" + voucher.signature.hex(), int(now),
                self.price,
            )  # fmt: skip

        challenge = (credential.challenge.id, credential.digest, credential.challenge.expires_s)
        purchase = await self.ledger.change(channel_id, decide, challenge=challenge)
        state = purchase.state
        if action == "close":
            state = await self.close(state)
        token = self.tokens.issue(StreamGrant(symbol, channel_id, state.paid_until_s))
        return Receipt(
            symbol, token, state.paid_until_s, purchase.minutes, channel_id, state.cumulative,
            credential.challenge.id, str(action),
        )  # fmt: skip

    def _check_onchain(self, onchain: OnChainChannel, channel_id: str) -> None:
        problem = None
        if not onchain.exists:
            problem = "does not exist on-chain"
        elif onchain.finalized:
            problem = "is finalised on-chain"
        elif onchain.payee.lower() != self.recipient.lower():
            problem = f"pays {onchain.payee}, not this server's recipient"
        elif onchain.token.lower() != self.network.currency.lower():
            problem = f"holds token {onchain.token}, not {self.network.currency}"
        if problem is not None:
            raise PaymentRefused(f"channel {channel_id} {problem}", code="channel_invalid")

    async def close(self, state: ChannelState) -> ChannelState:
        """Close the channel on-chain with the highest voucher, then record it finalised."""
        voucher = Voucher(
            bytes.fromhex(state.channel_id[2:]),
            state.cumulative,
            bytes.fromhex(state.signature[2:]),
        )
        await asyncio.to_thread(self.escrow.close, voucher)
        onchain = await asyncio.to_thread(self.escrow.channel, voucher.channel_id)

        def finalised(current: ChannelState | None) -> Purchase:
            assert current is not None  # noqa: S101  (the voucher was stored before the close)
            return Purchase(replace(current, settled=onchain.settled, finalized=True), 0)

        return (await self.ledger.change(state.channel_id, finalised)).state


def receipt_from_header(value: str) -> dict[str, Any]:
    """The JSON of a `Payment-Receipt` header (clients read it)."""
    return json_object(b64url_decode(value, "the receipt"), "the receipt")
