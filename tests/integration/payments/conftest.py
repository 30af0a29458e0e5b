"""One local chain and one payee per test module; the API serving the paid stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from eth_account.signers.local import LocalAccount

from api.app import create_app
from infra.bus import Bus
from infra.warehouse import Warehouse
from payments.gateway import PaymentGateway
from tests.conftest import Servers
from tests.integration.api.conftest import Api, api_settings, serving
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.session import Clock, gateway

SPEED = 60.0  # a paid minute is a wall second


@pytest.fixture(scope="module")
def chain() -> LocalChain:
    return LocalChain.start()


@pytest.fixture(scope="module")
def payee(chain: LocalChain) -> LocalAccount:
    return chain.account()


@pytest_asyncio.fixture
async def paid_api(
    request: pytest.FixtureRequest, chain: LocalChain, payee: LocalAccount, servers: Servers,
    warehouse: Warehouse, tmp_path: Path, bus: Bus,
) -> AsyncIterator[tuple[Api, PaymentGateway]]:  # fmt: skip
    """The API over the session's servers selling CL through a gateway on the local chain
    whose clock runs SPEED times faster, or as fast as an indirect parameter says (settling
    left to the close)."""
    speed = getattr(request, "param", SPEED)
    gw = gateway(chain, payee, servers.redis_url, Clock(speed), MPP_VOUCHER_LEAD_S="20",
                 MPP_SETTLE_INTERVAL_S="3600")  # fmt: skip
    await gw.ledger.client.flushdb()
    settings = api_settings(tmp_path, servers.nats_url, servers.clickhouse_url, warehouse.database)
    # The tape compressed (API_WS_DEFLATE), to show the paid stream refuses it all the same.
    async with serving(create_app(settings, payments=gw), ws_deflate=True) as api:
        await asyncio.wait_for(api.app.state.alpha.feed.ready.wait(), 10)
        yield api, gw
