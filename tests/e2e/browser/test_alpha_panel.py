"""The alpha stream panel reads `GET /skills`, so the page shows the network MPP_TESTNET
picked on the server: an API is started here per setting (the shared `flowtape up` keeps
one environment), selling on the local chain under the network's name and chain id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from eth_account import Account
from playwright.async_api import Browser, Page

from api.app import create_app
from infra.warehouse import Warehouse
from payments.config import PaymentConfig
from payments.gateway import PaymentGateway
from payments.ledger import Ledger
from tests.conftest import Servers
from tests.e2e.browser.conftest import SCREENSHOTS
from tests.integration.api.conftest import api_settings, serving
from tests.integration.payments.chain import LocalChain

pytestmark = pytest.mark.slow

# One escrow and one currency per network, so the panel shows which pair the toggle chose.
ADDRESSES = {
    name: {what: Account.create().address for what in ("escrow", "currency")}
    for name in ("mainnet", "testnet")
}


@pytest.fixture(scope="module")
def chain() -> LocalChain:
    return LocalChain.start()


def gateway(chain: LocalChain, redis_url: str, testnet: bool) -> PaymentGateway:
    config = PaymentConfig(
        _env_file=None, MPP_SECRET_KEY="s" * 40, MPP_TESTNET=str(testnet).lower(),
        MPP_AMOUNT="0.002", MPP_MINUTES_PER_PAYMENT="5", MPP_SYMBOLS="CL, ng",
        MPP_SETTLE_INTERVAL_S="3600",
        **{f"MPP_{name.upper()}_{what.upper()}": address
           for name, pair in ADDRESSES.items() for what, address in pair.items()},
    )  # type: ignore[call-arg]  # fmt: skip
    return PaymentGateway(
        config, config.network, Ledger.connect(redis_url), chain.escrow(chain.account())
    )


@asynccontextmanager
async def page_of(
    browser: Browser, servers: Servers, warehouse: Warehouse, tmp: Path,
    payments: PaymentGateway | None, unavailable: bool = False,
) -> AsyncIterator[Page]:  # fmt: skip
    settings = api_settings(tmp, servers.nats_url, servers.clickhouse_url, warehouse.database)
    async with serving(create_app(settings, payments=payments)) as api:
        context = await browser.new_context(
            base_url=api.base_url, viewport={"width": 1600, "height": 900}
        )
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        await page.goto("/")
        await page.wait_for_selector("#alpha-body [data-alpha]")
        yield page
        await context.close()
        # Chromium logs each failed request as a console error; a stream that cannot start
        # answers 503, one not configured is never asked
        assert [e for e in errors if not (unavailable and "status of 503" in e)] == []
        assert bool(errors) == unavailable


@pytest.mark.parametrize(
    ("testnet", "name", "chain_id"), [(True, "testnet", 42431), (False, "mainnet", 4217)]
)
async def test_the_alpha_panel_follows_mpp_testnet(
    browser: Browser, servers: Servers, warehouse: Warehouse, tmp_path: Path, chain: LocalChain,
    testnet: bool, name: str, chain_id: int,
) -> None:  # fmt: skip
    payments = gateway(chain, servers.redis_url, testnet)
    async with page_of(browser, servers, warehouse, tmp_path, payments) as page:
        panel = page.locator("#panel-alpha")
        assert await panel.is_visible()
        assert await page.locator("#alpha-body dl").get_attribute("data-alpha") == name
        text = await panel.inner_text()
        assert f"{name} · chain {chain_id}" in text
        assert "$0.002 per minute · 5 min per payment" in text
        assert "CL, NG" in text
        titles = await page.locator("#alpha-body .addr").evaluate_all(
            "spans => spans.map(s => [s.title, s.textContent])"
        )
        chosen = ADDRESSES[name]
        assert [title for title, _ in titles] == [chosen["escrow"], chosen["currency"]]
        for title, shown in titles:
            assert shown == f"{title[:6]}…{title[-4:]}"
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        await panel.screenshot(path=SCREENSHOTS / f"alpha-{name}.png")


@pytest.mark.parametrize("escrow_set", [False, True])
async def test_the_alpha_panel_says_why_there_is_no_paid_stream_and_can_be_hidden(
    browser: Browser, servers: Servers, warehouse: Warehouse, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, escrow_set: bool,
) -> None:  # fmt: skip
    monkeypatch.delenv("MPP_TESTNET", raising=False)
    monkeypatch.delenv("MPP_RECIPIENT_KEY", raising=False)
    for what, address in ADDRESSES["mainnet"].items():
        if escrow_set:
            monkeypatch.setenv(f"MPP_MAINNET_{what.upper()}", address)
        else:
            monkeypatch.delenv(f"MPP_MAINNET_{what.upper()}", raising=False)
    async with page_of(browser, servers, warehouse, tmp_path, None, escrow_set) as page:
        answer = await page.request.get("/skills")
        if escrow_set:  # configured, but it cannot start here: the 503's reason shows
            assert answer.status == 503
            said = f"paid alpha stream unavailable: {(await answer.json())['detail']}"
        else:  # the paid routes are not mounted at all
            assert answer.status == 404
            said = "no paid alpha stream on this API (MPP_* escrow and currency not set)"
        note = page.locator('#alpha-body [data-alpha="unavailable"]')
        assert await note.inner_text() == said
        await page.click("#panel-menu summary")
        await page.uncheck('#panel-menu input[data-panel="alpha"]')
        await page.reload()
        await page.wait_for_function("window.flowtape !== undefined")
        assert await page.locator("#panel-alpha").is_hidden()
