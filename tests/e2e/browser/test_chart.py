"""The chart in Chromium: candles with the flow as markers; a click on one opens its evidence;
a contract typed or clicked in a tape charts that contract's candles and only its packets."""

from __future__ import annotations

import asyncio
import re
import time
from typing import Any

import httpx
import pytest
from playwright.async_api import Route
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.e2e.browser.conftest import RunningUp, Tab

pytestmark = pytest.mark.slow

# The marker farthest from every other one inside the pane (so the click finds it alone).
LONE_MARKER = """
(() => {
  const chart = window.flowtape.chart;
  const box = document.getElementById('chart').getBoundingClientRect();
  const points = [...chart.points.keys()].map(id => [id, chart.markerPosition(id)])
    .filter(([, p]) => p && p.x > 20 && p.x < box.width - 100
      && p.y > 20 && p.y < box.height * 0.6);
  let best = null, room = -1;
  for (const [id, p] of points) {
    const nearest = Math.min(...points.filter(([other]) => other !== id)
      .map(([, q]) => Math.hypot(p.x - q.x, p.y - q.y)), Infinity);
    if (nearest > room) { best = {id, x: box.left + p.x, y: box.top + p.y}; room = nearest; }
  }
  return best && {...best, room};
})()
"""


async def test_clicking_a_chart_marker_opens_that_packets_evidence(tab: Tab) -> None:
    await tab.open("?min_premium=250000")  # few enough markers to aim at one
    await tab.page.wait_for_function(
        "window.flowtape.chart.bars.length > 1 && window.flowtape.chart.points.size > 2",
        timeout=60_000,
    )
    # the live chart refreshes every 10 s and may move under the pointer: aim again then
    for _ in range(3):
        marker = await tab.page.evaluate(LONE_MARKER)
        assert marker is not None and marker["room"] > 8, marker
        await tab.page.mouse.move(marker["x"], marker["y"])
        await tab.page.mouse.click(marker["x"], marker["y"])
        try:
            await tab.page.wait_for_selector("#evidence:not([hidden]) h2", timeout=5_000)
            break
        except PlaywrightTimeout:
            continue
    shown = await tab.page.evaluate(
        "[...document.querySelectorAll('#evidence-body dt')]"
        ".find(d => d.textContent === 'packet').nextElementSibling.textContent"
    )
    assert shown == marker["id"]
    await tab.shot("chart-marker-evidence")
    assert tab.errors == []


# Records, at the moment of the click, the contract of the row the pointer hit (the live tape
# may reuse the row's node for another print right after).
RECORD_CLICKED = """
document.addEventListener('click', (e) => {
  window.clickedContract = e.target.closest('.row')?.dataset.contract ?? null;
}, {capture: true, once: true})
"""

# The key of a contract's row wholly inside the prints list's view.
IN_VIEW_CONTRACT_ROW = """(() => {
  const view = document.getElementById('prints-list').getBoundingClientRect();
  const rows = [...document.querySelectorAll('#prints-list .row[data-contract]:not([hidden])')];
  const inside = rows.find((row) => {
    const box = row.getBoundingClientRect();
    return box.top >= view.top + 30 && box.bottom <= view.bottom;
  });
  return inside?.dataset.key;
})()"""

CHART_STATE = (
    "(() => { const c = window.flowtape.chart; return {symbol: c.symbol, kind: c.kind,"
    " underlying: c.underlying, bars: c.bars.length, close: c.lastClose,"
    " markers: [...c.points.keys()], note: document.getElementById('chart-note').textContent}; })()"
)


def charted(contract: str) -> str:
    """JS: the chart has drawn the contract's own candles. Its symbol changes when a load
    starts, its bars when the load ends (until then they are the last symbol's), and a
    contract whose prints the sink has not stored yet has none (the live chart asks again)."""
    shown = re.sub(" +", " ", contract, count=1)  # as the chart's note writes it
    return (
        f"window.flowtape.chart.symbol === {contract!r} && window.flowtape.chart.bars.length > 0"
        f" && document.getElementById('chart-note').textContent.startsWith('contract {shown} ')"
        " && !document.getElementById('chart-note').textContent.includes('no candles')"
    )


def contract_candles(stack: RunningUp, contract: str) -> tuple[int, float | None]:
    """The API's own answer: how many 1-minute candles the contract has and the last close."""
    body = stack.get(f"/v1/candles/{contract}", kind="contract", tf="1m", limit=500)
    candles = body["candles"]
    assert body["kind"] == "contract" and body["key"] == contract
    return len(candles), candles[-1]["close_dollars"] if candles else None


async def charted_agrees_with_the_api(tab: Tab, stack: RunningUp, contract: str) -> dict[str, Any]:
    """The chart's candle count and last close equal /v1/candles' for the contract (read
    again around a fresh load: prints of the contract may land meanwhile)."""
    for _ in range(5):
        before = contract_candles(stack, contract)
        await tab.page.evaluate(
            "([key, u]) => window.flowtape.chart.load(key, 'live', '1m', u)",
            [contract, contract.split()[0]],
        )
        state: dict[str, Any] = await tab.page.evaluate(CHART_STATE)
        if contract_candles(stack, contract) == before:
            assert (state["bars"], state["close"]) == before, (state, before)
            return state
    raise AssertionError(f"the candles of {contract} kept changing")


def holds(stack: RunningUp, packet_id: str, contract: str) -> bool:
    """Whether the stored packet has a leg in `contract` (a live marker's packet may reach the
    chart before the sink stores it: it is waited for)."""
    deadline = time.monotonic() + 60
    while True:
        response = httpx.get(f"{stack.url}/v1/packets/{packet_id}", timeout=30)
        if response.status_code != 404 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    response.raise_for_status()
    return any(leg["symbol"] == contract for leg in response.json()["packet"]["legs"])


async def test_a_contract_clicked_in_the_prints_tape_charts_its_candles_and_only_its_packets(
    tab: Tab, stack: RunningUp
) -> None:
    await tab.open("?min_premium=0")
    await tab.page.wait_for_function(
        "window.flowtape.lists.prints.items.length > 60", timeout=60_000
    )
    # scrolled down, the rows in view hold still as prints arrive (they go in above the view);
    # the rows there are below the newest: their prints are stored, their contracts have candles
    await tab.page.evaluate("document.getElementById('prints-list').scrollTop = 10 * 22")
    await tab.page.wait_for_function("window.flowtape.lists.prints.scrollTop > 0")
    key = await tab.page.wait_for_function(IN_VIEW_CONTRACT_ROW, timeout=30_000)
    await tab.page.evaluate(RECORD_CLICKED)
    await tab.page.locator(
        f"#prints-list .row[data-key='{await key.json_value()}'] .c-strike"
    ).click()
    contract = await tab.page.evaluate("window.clickedContract")
    assert contract and contract[-9] in "CP", contract
    await tab.page.wait_for_function(
        f"window.flowtape.chart.symbol === {contract!r}", timeout=10_000
    )
    await tab.page.wait_for_function(charted(contract), timeout=60_000)
    assert await tab.page.input_value("#chart-symbol") == contract
    assert await tab.page.is_hidden("#evidence"), "the contract cell charts; it opens no evidence"
    state = await charted_agrees_with_the_api(tab, stack, contract)
    assert state["kind"] == "contract" and state["note"].startswith("contract ")
    assert state["underlying"] == contract.split()[0]
    assert all(holds(stack, packet_id, contract) for packet_id in state["markers"][:10])
    await tab.shot("chart-contract-from-prints")
    assert tab.errors == []


CHART_SHOWS = """({symbol: window.flowtape.chart.symbol, bars: window.flowtape.chart.bars.length,
  note: document.getElementById('chart-note').textContent,
  typed: document.getElementById('chart-symbol').value})"""

# A one-contract packet below the newest (its prints are stored by now).
SINGLE_LEG = (
    "(() => { const all = window.flowtape.lists.flow.all()"
    ".filter(p => (p.legs || []).length === 1); return all[Math.min(10, all.length - 1)]; })()"
)


async def test_a_contract_typed_in_short_form_charts_it_with_the_packets_holding_it(
    tab: Tab, stack: RunningUp
) -> None:
    await tab.open("?min_premium=0")
    await tab.page.wait_for_function(SINGLE_LEG, timeout=60_000)
    packet = await tab.page.evaluate(
        f"(() => {{ const p = {SINGLE_LEG};"
        " return {id: p.packet_id, symbol: p.legs[0].symbol}; })()"
    )
    contract = packet["symbol"]
    compact = contract.replace(" ", "").lower()  # `aapl240119c00190000`, as normalise_key reads it
    await tab.page.fill("#chart-symbol", compact)
    await tab.page.press("#chart-symbol", "Enter")
    try:
        await tab.page.wait_for_function(charted(contract), timeout=60_000)
    except PlaywrightTimeout:
        shown = await tab.page.evaluate(CHART_SHOWS)
        raise AssertionError(f"{contract!r} not charted in 60 s; the chart shows {shown}") from None
    assert await tab.page.input_value("#chart-symbol") == contract
    await tab.page.wait_for_function(
        f"window.flowtape.chart.points.has({packet['id']!r})", timeout=60_000
    )
    await charted_agrees_with_the_api(tab, stack, contract)
    await tab.page.evaluate(  # mark again on the candles just loaded
        "window.flowtape.chart.setPackets("
        "window.flowtape.lists.flow.all().filter(p => window.flowtape.chart.holds(p)))"
    )
    state = await tab.page.evaluate(CHART_STATE)
    assert packet["id"] in state["markers"]
    assert all(holds(stack, packet_id, contract) for packet_id in state["markers"][:10])
    await tab.shot("chart-contract-typed")
    assert tab.errors == []


async def test_a_symbol_typed_while_the_page_asks_for_the_busiest_ticker_is_kept(
    tab: Tab,
) -> None:
    answer = asyncio.Event()  # the page's question for a ticker to chart waits for this

    async def held(route: Route) -> None:
        await answer.wait()
        await route.continue_()

    await tab.page.route("**/v1/flow/top-tickers*", held)
    await tab.open("?min_premium=0")
    await tab.page.wait_for_function(SINGLE_LEG, timeout=60_000)
    contract = await tab.page.evaluate(f"{SINGLE_LEG}.legs[0].symbol")
    await tab.page.fill("#chart-symbol", contract)
    async with tab.page.expect_response("**/v1/flow/top-tickers*"):
        answer.set()
    await tab.page.wait_for_timeout(500)  # the busiest ticker is in: it must not take the field
    assert await tab.page.input_value("#chart-symbol") == contract
    await tab.page.press("#chart-symbol", "Enter")
    await tab.page.wait_for_function(
        f"window.flowtape.chart.symbol === {contract!r}", timeout=30_000
    )
    assert tab.errors == []


async def test_a_flow_rows_contract_cell_charts_it_and_the_rest_of_the_row_opens_evidence(
    tab: Tab,
) -> None:
    await tab.open("?min_premium=0")
    row = "#flow-list .row[data-contract]:not([hidden])"
    await tab.page.wait_for_function(f"document.querySelector('{row}')", timeout=60_000)
    await tab.page.click("#flow-pause")  # the rows hold still while we click them
    await tab.page.wait_for_timeout(200)
    await tab.page.evaluate(RECORD_CLICKED)
    await tab.page.locator(f"{row} .c-exp").first.click()
    contract = await tab.page.evaluate("window.clickedContract")
    await tab.page.wait_for_function(
        f"window.flowtape.chart.symbol === {contract!r}"
        " && window.flowtape.chart.kind === 'contract'",
        timeout=30_000,
    )
    assert await tab.page.is_hidden("#evidence")
    multi = tab.page.locator(
        "#flow-list .row[data-packet]:not([data-contract]):not([hidden]) .c-exp"
    )
    if await multi.count():  # a multi-leg row's expiry cell names no one contract: evidence
        await multi.first.click()
        await tab.page.wait_for_selector("#evidence:not([hidden])", timeout=5_000)
        await tab.page.click("#close-evidence")
    clicked = tab.page.locator(f"{row} .c-prem").first
    packet_id = await clicked.evaluate("cell => cell.closest('.row').dataset.packet")
    await clicked.click()
    await tab.page.wait_for_selector("#evidence:not([hidden])", timeout=5_000)
    shown = await tab.page.wait_for_function(  # a loaded machine answers a single's slowly
        "[...document.querySelectorAll('#evidence-body dt')]"
        ".find(d => d.textContent === 'packet')?.nextElementSibling.textContent"
        " || document.querySelector('#evidence-body p.hint:not(:empty)')?.textContent"
        "   .replace(/^loading.*/, '')",
        timeout=60_000,
    )
    assert await shown.json_value() == packet_id
    assert await tab.page.evaluate("window.flowtape.chart.symbol") == contract
    await tab.shot("chart-contract-from-flow")
    assert tab.errors == []
