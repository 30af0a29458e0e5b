"""One local chain and one payee per test module."""

from __future__ import annotations

import pytest
from eth_account.signers.local import LocalAccount

from tests.integration.payments.chain import LocalChain


@pytest.fixture(scope="module")
def chain() -> LocalChain:
    return LocalChain.start()


@pytest.fixture(scope="module")
def payee(chain: LocalChain) -> LocalAccount:
    return chain.account()
