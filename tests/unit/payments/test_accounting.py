"""What a voucher buys: whole payments above the last one, within the deposit, above what
was settled; an equal repeat buys nothing; a lapse is not paid for."""

from __future__ import annotations

from dataclasses import replace

import pytest

from payments.accounting import ChannelState, Price, apply_voucher
from payments.errors import PaymentRefused

PRICE = Price(amount=1_000, minutes_per_payment=1)
NOW = 1_800_000_000
OPENED = ChannelState(
    "0x" + "01" * 32, "CL", "0xPayer", "0xSigner", deposit=60_000, settled=0, cumulative=0,
    signature="", paid_until_s=0,
)  # fmt: skip


def test_the_first_payment_buys_its_minutes_from_now() -> None:
    bought = apply_voucher(OPENED, 1_000, "0xsig", NOW, PRICE)
    assert bought.minutes == 1
    assert (bought.state.cumulative, bought.state.paid_until_s) == (1_000, NOW + 60)


def test_paying_before_expiry_extends_from_the_paid_time_without_a_gap() -> None:
    first = apply_voucher(OPENED, 1_000, "0xa", NOW, PRICE).state
    second = apply_voucher(first, 3_000, "0xb", NOW + 50, PRICE)
    assert second.minutes == 2
    assert second.state.paid_until_s == NOW + 60 + 120


def test_paying_after_a_lapse_starts_from_now() -> None:
    first = apply_voucher(OPENED, 1_000, "0xa", NOW, PRICE).state
    assert apply_voucher(first, 2_000, "0xb", NOW + 500, PRICE).state.paid_until_s == NOW + 560


def test_minutes_per_payment_multiplies() -> None:
    bought = apply_voucher(OPENED, 2_000, "0xa", NOW, Price(1_000, 5))
    assert (bought.minutes, bought.state.paid_until_s) == (10, NOW + 600)


def test_an_equal_repeat_is_an_idempotent_retry() -> None:
    first = apply_voucher(OPENED, 1_000, "0xa", NOW, PRICE).state
    again = apply_voucher(first, 1_000, "0xa", NOW + 30, PRICE)
    assert again.minutes == 0 and again.state == first


PAID = replace(OPENED, cumulative=5_000, signature="0xa", paid_until_s=NOW + 300)
REFUSALS = {
    "lower": (PAID, 4_000, "voucher_not_increasing"),
    "above the deposit": (OPENED, 61_000, "voucher_exceeds_deposit"),
    "not whole payments": (OPENED, 1_500, "voucher_amount"),
    "zero": (OPENED, 0, "voucher_not_increasing"),
    "not above settled": (replace(OPENED, settled=3_000), 2_000, "voucher_not_increasing"),
    "closed": (replace(PAID, finalized=True), 6_000, "channel_closed"),
}


@pytest.mark.parametrize("case", REFUSALS)
def test_a_voucher_the_channel_cannot_honour_is_refused(case: str) -> None:
    state, amount, code = REFUSALS[case]
    with pytest.raises(PaymentRefused) as refused:
        apply_voucher(state, amount, "0xsig", NOW, PRICE)
    assert refused.value.code == code


def test_the_authorised_signer_and_the_payer_may_sign_nobody_else() -> None:
    assert OPENED.signer_allowed("0xsigner") and OPENED.signer_allowed("0xPAYER")
    assert not OPENED.signer_allowed("0xOther")
