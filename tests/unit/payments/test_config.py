"""MPP_* settings: one toggle flips the network; secrets refuse placeholders outside
development and never show in a repr or a log line."""

from __future__ import annotations

import logging

import pytest

from payments.config import DEVELOPMENT_SECRET, PaymentConfig
from schemas.errors import ConfigError

REAL_SECRET = "a-real-secret-of-at-least-thirty-two-chars"  # noqa: S105  (a test value)
RECIPIENT_KEY = "0x" + "4c" * 32


def config(**values: str) -> PaymentConfig:
    return PaymentConfig(_env_file=None, **values)  # type: ignore[call-arg]


def test_mpp_testnet_flips_chain_rpc_escrow_and_currency_together() -> None:
    addresses = {
        "MPP_MAINNET_ESCROW": "0x" + "01" * 20, "MPP_MAINNET_CURRENCY": "0x" + "02" * 20,
        "MPP_TESTNET_ESCROW": "0x" + "03" * 20, "MPP_TESTNET_CURRENCY": "0x" + "04" * 20,
    }  # fmt: skip
    mainnet = config(**addresses).network
    testnet = config(MPP_TESTNET="true", **addresses).network
    assert (mainnet.chain_id, mainnet.escrow, mainnet.currency) == (
        4217, "0x" + "01" * 20, "0x" + "02" * 20,
    )  # fmt: skip
    assert (testnet.chain_id, testnet.escrow, testnet.currency) == (
        42431, "0x" + "03" * 20, "0x" + "04" * 20,
    )  # fmt: skip
    assert mainnet.rpc_url != testnet.rpc_url


def test_the_price_is_mpp_amount_in_token_units() -> None:
    assert config().amount_units == 1_000  # $0.001 at 6 decimals
    assert config(MPP_AMOUNT="0.25", MPP_TOKEN_DECIMALS="2").amount_units == 25  # noqa: S106
    with pytest.raises(ConfigError, match="whole number"):
        config(MPP_AMOUNT="0.0000001").amount_units  # noqa: B018
    with pytest.raises(ConfigError, match="decimal"):
        config(MPP_AMOUNT="cheap").amount_units  # noqa: B018


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({}, "MPP_SECRET_KEY is a placeholder"),
        ({"MPP_SECRET_KEY": "changeme"}, "MPP_SECRET_KEY is a placeholder"),
        ({"MPP_SECRET_KEY": DEVELOPMENT_SECRET}, "MPP_SECRET_KEY is a placeholder"),
        ({"MPP_SECRET_KEY": "short"}, "at least 32 characters"),
        ({"MPP_SECRET_KEY": REAL_SECRET}, "MPP_RECIPIENT_KEY is a placeholder"),
        ({"MPP_SECRET_KEY": REAL_SECRET, "MPP_RECIPIENT_KEY": "changeme"},
         "MPP_RECIPIENT_KEY is a placeholder"),
    ],
)  # fmt: skip
def test_placeholders_refuse_to_start_outside_development(
    values: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message):
        config(FLOWTAPE_ENV="production", **values).check()


def test_real_secrets_start_in_production_and_development_takes_defaults() -> None:
    production = config(
        FLOWTAPE_ENV="production", MPP_SECRET_KEY=REAL_SECRET, MPP_RECIPIENT_KEY=RECIPIENT_KEY
    )
    production.check()
    assert production.hmac_secret() == REAL_SECRET.encode()
    assert config().hmac_secret() == DEVELOPMENT_SECRET.encode()


def test_a_malformed_recipient_key_is_refused_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as refused:
        config(MPP_RECIPIENT_KEY="0xnot-a-key-but-a-secret").check()
    assert "not-a-key" not in str(refused.value)


def test_secrets_never_appear_in_repr_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    settings = config(MPP_SECRET_KEY=REAL_SECRET, MPP_RECIPIENT_KEY=RECIPIENT_KEY)
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("flowtape.test").info("payment settings: %s %r", settings, settings)
    for text in (repr(settings), str(settings), caplog.text, settings.model_dump_json()):
        assert REAL_SECRET not in text and RECIPIENT_KEY[2:] not in text
    assert settings.recipient().address.startswith("0x")
