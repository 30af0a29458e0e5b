"""The settler is never silently failing: passes against an unreachable ledger are counted,
open its circuit breaker after three in a row, skip the chain while it is open, retry after
the cooldown and close it on the first good pass; the API's `/health` shows all of it and is
degraded while the breaker is open."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest_asyncio
from eth_account.signers.local import LocalAccount

from api.alpha_stream import AlphaStream
from infra.embedded import free_port
from payments.gateway import PaymentGateway
from payments.ledger import Ledger
from payments.settlement import Settler
from tests.conftest import Servers
from tests.integration.api.conftest import Api
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.session import Clock, gateway


class Now:
    """A wall clock the test moves."""

    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        return self.t


@pytest_asyncio.fixture
async def gw(
    chain: LocalChain, payee: LocalAccount, servers: Servers
) -> AsyncIterator[PaymentGateway]:
    served = gateway(chain, payee, servers.redis_url, Clock(1.0))
    await served.ledger.client.flushdb()
    yield served
    await served.ledger.close()


async def test_failed_passes_open_the_breaker_which_a_good_pass_closes(
    gw: PaymentGateway,
) -> None:
    unreachable = Ledger.connect(f"redis://127.0.0.1:{free_port()}/0")
    now = Now()
    settler = Settler(unreachable, gw.escrow, interval_s=60, breaker_after=3,
                      breaker_cooldown_s=300, clock=now)  # fmt: skip
    try:
        for failed in (1, 2):
            assert await settler.attempt() is None
            assert settler.report()["failuresInARow"] == failed
            assert not settler.report()["circuitBreakerOpen"]
        assert await settler.attempt() is None
        report = settler.report()
        assert report["circuitBreakerOpen"] and report["lastFailureKind"] == "ConnectionError"
        assert report["lastSuccessAt"] is None

        now.t += 299
        assert await settler.attempt() is None and settler.attempts == 3  # skipped while open
        now.t += 2
        assert await settler.attempt() is None and settler.attempts == 4  # the trial failed
        assert settler.report()["circuitBreakerOpen"]

        settler.ledger = gw.ledger
        now.t += 301
        assert await settler.attempt() == []
        report = settler.report()
        assert not report["circuitBreakerOpen"] and report["failuresInARow"] == 0
        assert report["lastSuccessAt"] is not None
        assert report["lastFailureKind"] == "ConnectionError"  # kept for the operator
    finally:
        await unreachable.close()


async def test_the_api_health_is_degraded_while_the_settlement_breaker_is_open(
    paid_api: tuple[Api, PaymentGateway],
) -> None:
    api, gw = paid_api
    stream: AlphaStream = api.app.state.alpha
    assert stream.settler is not None
    settler = stream.settler
    async with httpx.AsyncClient(base_url=api.base_url, timeout=30) as http:
        before = (await http.get("/health")).json()
        assert before["alphaStream"]["available"]
        assert not before["alphaStream"]["settlement"]["circuitBreakerOpen"]

        unreachable = Ledger.connect(f"redis://127.0.0.1:{free_port()}/0")
        settler.ledger = unreachable
        try:
            for _ in range(settler.breaker_after):
                await settler.attempt()
            response = await http.get("/health")
            body = response.json()
            assert response.status_code == 503 and body["status"] == "degraded"
            assert body["alphaStream"]["settlement"]["circuitBreakerOpen"]
            assert "settlement circuit open: ConnectionError" in body["errors"]["last"]
        finally:
            await unreachable.close()

        settler.ledger = gw.ledger
        settler.open_until = None  # the cooldown over
        assert await settler.attempt() == []
        after = await http.get("/health")
        assert after.status_code == 200 and after.json()["status"] == "ok"
