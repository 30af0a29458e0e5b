"""Channel accounting: what a voucher is worth to a channel, as a pure function of its state.

Money is integer token units. A voucher carries the cumulative amount the payer owes in all;
it must be a whole number of payments above the last accepted one (each payment buys
MPP_MINUTES_PER_PAYMENT minutes), at most the deposit and above what was settled on-chain.
An equal repeat of the last accepted amount is a retry: it buys nothing and is not refused.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from payments.errors import PaymentRefused

SECONDS_PER_MINUTE = 60


@dataclass(frozen=True, slots=True)
class Price:
    amount: int  # token units per payment
    minutes_per_payment: int


@dataclass(frozen=True, slots=True)
class ChannelState:
    """The server's view of one channel (`channel_id` is 0x-hex)."""

    channel_id: str
    symbol: str
    payer: str
    authorized_signer: str
    deposit: int
    settled: int  # on-chain, as last read
    cumulative: int  # the highest voucher accepted
    signature: str  # of that voucher, 0x-hex ("" before the first)
    paid_until_s: int
    finalized: bool = False

    def signer_allowed(self, signer: str) -> bool:
        """The authorised signer signs; the payer may always sign for its own channel."""
        return signer.lower() in {self.authorized_signer.lower(), self.payer.lower()}


@dataclass(frozen=True, slots=True)
class Purchase:
    state: ChannelState
    minutes: int  # bought by this voucher (0 for a retry)


def apply_voucher(
    state: ChannelState, cumulative: int, signature: str, now_s: int, price: Price
) -> Purchase:
    """The channel after accepting a voucher for `cumulative` at `now_s`, or a refusal."""
    if state.finalized:
        raise PaymentRefused(f"channel {state.channel_id} is closed", code="channel_closed")
    if cumulative == state.cumulative and state.cumulative > 0:
        return Purchase(state, 0)
    if cumulative < state.cumulative:
        raise PaymentRefused(
            f"cumulative amount {cumulative} is below the {state.cumulative} already accepted",
            code="voucher_not_increasing",
        )
    if cumulative <= state.settled:
        raise PaymentRefused(
            f"cumulative amount {cumulative} is not above the {state.settled} settled on-chain",
            code="voucher_not_increasing",
        )
    if cumulative > state.deposit:
        raise PaymentRefused(
            f"cumulative amount {cumulative} exceeds the channel's deposit {state.deposit}",
            code="voucher_exceeds_deposit",
        )
    increase = cumulative - state.cumulative
    if increase % price.amount:
        raise PaymentRefused(
            f"the voucher adds {increase}, not a whole number of payments of {price.amount}",
            code="voucher_amount",
        )
    minutes = increase // price.amount * price.minutes_per_payment
    start = max(now_s, state.paid_until_s)  # a lapse is not paid for; early payment extends
    paid_until = start + minutes * SECONDS_PER_MINUTE
    accepted = replace(state, cumulative=cumulative, signature=signature, paid_until_s=paid_until)
    return Purchase(accepted, minutes)
