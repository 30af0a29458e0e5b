"""The live view of `flowtape up` in Chromium: panels, filters, row styles, pause, layout."""

from __future__ import annotations

from collections import Counter
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest

from compute.calendar import new_york_date, trading_days_to
from tests.e2e.browser.conftest import RunningUp, Tab

pytestmark = pytest.mark.slow

PANELS = ("flow", "alerts", "hits", "darkpool", "prints", "equities")


async def wait_js(tab: Tab, expression: str, timeout_s: float = 60) -> None:
    await tab.page.wait_for_function(expression, timeout=timeout_s * 1000)


async def flow_items(tab: Tab) -> list[dict[str, Any]]:
    return await tab.page.evaluate(  # type: ignore[no-any-return]
        "window.flowtape.lists.flow.all().map(p => ({id: p.packet_id, underlying: p.underlying,"
        " premium_cents: p.premium_cents, kind: p.kind, run_id: p.run_id}))"
    )


async def test_each_panel_fills_and_the_chart_draws_candles(tab: Tab) -> None:
    await tab.open()
    for panel in PANELS:
        await wait_js(tab, f"window.flowtape.lists.{panel}.size > 0")
    await wait_js(tab, "window.flowtape.chart.bars.length > 0")
    strip = await tab.page.locator("#sev-strip button").all_inner_texts()
    assert len(strip) == 5 and sum(int(t.split(": ")[1]) for t in strip) > 0
    rows = await tab.page.locator("#flow-list .row").count()
    assert 0 < rows < 80, "only the rows in view are in the DOM"
    await tab.shot("panels-live")
    assert tab.errors == []


async def test_premium_floor_defaults_and_min_premium_and_symbol_filters_narrow_the_tape(
    tab: Tab, stack: RunningUp
) -> None:
    await tab.open()
    assert await tab.page.input_value("#f-min-premium") == "25000"
    await wait_js(tab, "window.flowtape.lists.flow.size > 0")
    assert all(p["premium_cents"] >= 2_500_000 for p in await flow_items(tab))

    await tab.page.fill("#f-min-premium", "0")
    await tab.page.click("#filters button[type=submit]")
    await wait_js(tab, "window.flowtape.lists.flow.size >= 100")
    everything = await flow_items(tab)
    assert min(p["premium_cents"] for p in everything) < 2_500_000

    await tab.page.fill("#f-min-premium", "100000")
    await tab.page.click("#filters button[type=submit]")
    await wait_js(tab, "window.flowtape.lists.flow.size > 0")
    large = await flow_items(tab)
    assert all(p["premium_cents"] >= 10_000_000 for p in large)
    assert any(p["premium_cents"] < 10_000_000 for p in everything)

    top = stack.get("/v1/flow/top-tickers", limit=1)["items"][0]["underlying"]
    await tab.page.fill("#f-min-premium", "0")
    await tab.page.fill("#f-symbols", top.lower())
    await tab.page.click("#filters button[type=submit]")
    await wait_js(tab, "window.flowtape.lists.flow.size > 0")
    await tab.page.wait_for_timeout(1500)  # live rows keep arriving under the new filter
    one = await flow_items(tab)
    assert {p["underlying"] for p in one} == {top}
    shown = await tab.page.locator("#flow-list .row:not([hidden]) .c-sym").all_inner_texts()
    assert set(shown) == {top}
    query = parse_qs(urlparse(tab.page.url).query)
    assert query["symbols"] == [top] and query["min_premium"] == ["0"]
    await tab.shot("filter-symbol")

    await tab.open(f"?symbols={top}&min_premium=50000&side=buy")  # a shared link
    assert await tab.page.input_value("#f-symbols") == top
    assert await tab.page.input_value("#f-side") == "buy"
    await wait_js(tab, "window.flowtape.lists.flow.size > 0")
    shared = await tab.page.evaluate(
        "window.flowtape.lists.flow.all().map(p => [p.underlying, p.side, p.premium_cents])"
    )
    assert all(u == top and s == "buy" and c >= 5_000_000 for u, s, c in shared)


LEGS = (
    "window.flowtape.lists.flow.all().map(p => ({id: p.packet_id, spot: p.spot_px_dollars,"
    " legs: (p.legs || []).map(l => ({dte: l.dte, vol: l.day_volume, oi: l.open_interest,"
    " right: l.right, strike: l.strike_price_dollars}))}))"
)


def leg_within(leg: dict[str, Any], low: int, high: int) -> bool:
    """DTE in [low, high] and the day's volume above open interest."""
    return (
        leg["dte"] is not None
        and low <= leg["dte"] <= high
        and bool(leg["oi"])
        and leg["vol"] > leg["oi"]
    )


async def test_dte_range_and_vol_over_oi_filters_narrow_the_tape_and_ride_in_the_url(
    tab: Tab,
) -> None:
    await tab.open("?min_premium=0")
    await wait_js(
        tab,
        "window.flowtape.lists.flow.all().some(p => (p.legs || []).some(l => l.dte !== null"
        " && l.open_interest > 0 && l.day_volume > l.open_interest))",
        timeout_s=180,
    )
    packets = await tab.page.evaluate(LEGS)
    dte = next(
        leg["dte"] for p in packets for leg in p["legs"] if leg_within(leg, 0, 10**6)
    )  # a range around a DTE the tape has, so the narrowed tape is not empty
    low, high = max(dte - 3, 0), dte + 3
    outside = [p for p in packets if not any(leg_within(leg, low, high) for leg in p["legs"])]
    assert outside, "the unfiltered tape holds rows the filter must drop"

    await tab.page.fill("#f-dte-min", str(low))
    await tab.page.fill("#f-dte-max", str(high))
    await tab.page.check("#f-vol-oi")
    await tab.page.click("#filters button[type=submit]")
    await wait_js(tab, "window.flowtape.lists.flow.size > 0", timeout_s=120)
    await tab.page.wait_for_timeout(1500)  # live rows keep arriving under the new filter
    await tab.page.click("#flow-pause")  # the drawn rows and the list agree while we read
    await tab.page.wait_for_timeout(200)
    kept = {p["id"]: p for p in await tab.page.evaluate(LEGS)}
    assert kept and all(any(leg_within(leg, low, high) for leg in p["legs"]) for p in kept.values())
    drawn = await tab.page.evaluate(
        "[...document.querySelectorAll('#flow-list .row:not([hidden])')].map(r => r.dataset.packet)"
    )
    assert drawn and set(drawn) <= set(kept)
    assert not {p["id"] for p in outside} & set(kept)
    query = parse_qs(urlparse(tab.page.url).query)
    assert query["dte_min"] == [str(low)] and query["dte_max"] == [str(high)]
    assert query["vol_oi"] == ["1"]
    await tab.shot("filter-dte-vol-oi")

    await tab.open(f"?min_premium=0&dte_min={low}&dte_max={high}&vol_oi=1")  # a shared link
    assert await tab.page.input_value("#f-dte-min") == str(low)
    assert await tab.page.input_value("#f-dte-max") == str(high)
    assert await tab.page.is_checked("#f-vol-oi")


PRINTS = (
    "window.flowtape.lists.prints.all().map(p => ({symbol: p.symbol, ts: p.ts_event,"
    " side: p.side}))"
)


def print_dte(row: dict[str, Any]) -> int:
    """NYSE sessions from the print's New York date to the OSI symbol's expiry."""
    return trading_days_to(new_york_date(int(row["ts"])), 20_000_000 + int(row["symbol"][-15:-9]))


async def test_right_dte_and_side_filters_narrow_the_option_prints_tape(tab: Tab) -> None:
    await tab.open("?min_premium=0")
    await wait_js(tab, "window.flowtape.lists.prints.size >= 100")
    await tab.page.wait_for_timeout(2000)
    everything = await tab.page.evaluate(PRINTS)
    puts = [r for r in everything if r["symbol"][-9] == "P" and r["side"] == "buy"]
    dte = Counter(print_dte(r) for r in puts).most_common(1)[0][0]

    def kept(row: dict[str, Any]) -> bool:
        return row["symbol"][-9] == "P" and row["side"] == "buy" and print_dte(row) == dte

    assert any(not kept(r) for r in everything), "the unfiltered tape holds rows to drop"

    await tab.page.select_option("#f-right", "P")
    await tab.page.select_option("#f-side", "buy")
    await tab.page.fill("#f-dte-min", str(dte))
    await tab.page.fill("#f-dte-max", str(dte))
    await tab.page.click("#filters button[type=submit]")
    await wait_js(tab, "window.flowtape.lists.prints.size > 0")
    await tab.page.wait_for_timeout(2000)  # as long as the unfiltered tape ran
    # the list and the rows drawn from it, read at one instant (live rows keep arriving)
    narrowed, drawn = await tab.page.evaluate(
        f"[{PRINTS}, [...document.querySelectorAll('#prints-list .row:not([hidden])')]"
        ".map(r => [r.dataset.contract, r.querySelector('.c-right').textContent,"
        " r.querySelector('.c-side').textContent])]"
    )
    assert narrowed and all(kept(r) for r in narrowed)
    assert len(narrowed) < len(everything)
    assert drawn and {r["symbol"] for r in narrowed} >= {contract for contract, _, _ in drawn}
    assert all(right == "P" and side.startswith("buy") for _, right, side in drawn), drawn
    query = parse_qs(urlparse(tab.page.url).query)
    assert query["right"] == ["P"] and query["dte_min"] == query["dte_max"] == [str(dte)]
    await tab.shot("prints-filter-put-dte-buy")
    assert tab.errors == []


def out_of_the_money(spot: float, leg: dict[str, Any]) -> bool:
    """The strike more than 2 % of spot away on the worthless side (the page's ATM band)."""
    beyond = leg["strike"] - spot if leg["right"] == "C" else spot - leg["strike"]
    return bool(beyond > 0.02 * spot)


async def test_the_moneyness_filter_keeps_out_of_the_money_rows_by_the_rows_spot(tab: Tab) -> None:
    await tab.open("?min_premium=0&money=otm")
    assert await tab.page.input_value("#f-money") == "otm"
    await wait_js(tab, "window.flowtape.lists.flow.size >= 5", timeout_s=120)
    await tab.page.click("#flow-pause")
    for packet in await tab.page.evaluate(LEGS):
        assert packet["spot"] and any(
            out_of_the_money(packet["spot"], leg) for leg in packet["legs"]
        ), packet
    assert parse_qs(urlparse(tab.page.url).query)["money"] == ["otm"]


async def test_a_saved_watchlist_filters_by_its_symbols_in_one_pick(
    tab: Tab, stack: RunningUp
) -> None:
    top = [t["underlying"] for t in stack.get("/v1/flow/top-tickers", limit=2)["items"]]
    await tab.open("?min_premium=0")
    await tab.page.fill("#f-symbols", ",".join(top))
    await tab.page.fill("#wl-name", "mine")
    await tab.page.click("#wl-save")
    await tab.page.fill("#f-symbols", "")
    await tab.page.click("#filters button[type=submit]")
    await tab.page.reload()  # the list outlives the page
    await tab.page.wait_for_function("window.flowtape !== undefined")
    await tab.page.select_option("#wl-pick", "mine")
    assert await tab.page.input_value("#f-symbols") == ",".join(top)
    await wait_js(tab, "window.flowtape.lists.flow.size > 0")
    assert {p["underlying"] for p in await flow_items(tab)} <= set(top)
    assert parse_qs(urlparse(tab.page.url).query)["symbols"] == [",".join(top)]


async def test_sweep_golden_sweep_and_block_rows_are_styled_apart_from_singles(
    tab: Tab, stack: RunningUp
) -> None:
    golden = stack.get("/v1/hits", rule="golden_sweep", limit=1)["items"][0]
    await tab.open(f"?symbols={golden['underlying']}&min_premium=0&kind=golden")
    find = (
        f"window.flowtape.lists.flow.items.findIndex(p => p.packet_id === '{golden['packet_id']}')"
    )
    await wait_js(tab, f"{find} >= 0")
    await tab.page.click("#flow-pause")  # the rows hold still while we look at them
    assert await tab.page.evaluate(
        "window.flowtape.lists.flow.all().every(p => p.kind === 'sweep')"
        " && document.querySelectorAll('#flow-list .row:not([hidden]):not(.golden)').length === 0"
    )
    index = await tab.page.evaluate(find)
    await tab.page.evaluate(
        f"document.getElementById('flow-list').scrollTop = {max(index - 3, 0) * 22}"
    )
    row = tab.page.locator(f'#flow-list .row[data-packet="{golden["packet_id"]}"]')
    await row.wait_for()
    assert "golden" in (await row.get_attribute("class") or "")
    assert await row.locator(".c-kind").inner_text() == "golden sweep"  # and a star before it

    async def look(selector: str) -> tuple[str, str, str]:
        """The row's edge, background and kind colour, read as soon as such a row is drawn."""
        drawn = await tab.page.wait_for_function(
            f"(() => {{ const r = document.querySelector('{selector}'); if (!r) return null;"
            " const s = getComputedStyle(r), k = getComputedStyle(r.querySelector('.c-kind'));"
            " return [s.boxShadow, s.backgroundColor, k.color]; })()",
            timeout=60_000,
        )
        return tuple(await drawn.json_value())

    styles = {"golden": await look(f'#flow-list .row[data-packet="{golden["packet_id"]}"]')}
    await tab.page.click("#flow-pause")
    await tab.page.fill("#f-symbols", "")
    for kind in ("sweep", "block", "single"):  # the kind filter brings one of each to the top
        await tab.page.select_option("#f-kind", kind)
        await tab.page.click("#filters button[type=submit]")
        styles[kind] = await look(f"#flow-list .row.k-{kind}:not(.golden)")
        kinds = await tab.page.evaluate("window.flowtape.lists.flow.all().map(p => p.kind)")
        assert set(kinds) == {kind}
    await tab.shot("row-styles")
    assert len(set(styles.values())) == 4, styles


async def test_pause_holds_the_visible_rows_while_the_counter_grows(tab: Tab) -> None:
    await tab.open("?min_premium=0")
    keys = "[...document.querySelectorAll('#flow-list .row:not([hidden])')].map(r => r.dataset.key)"
    await wait_js(tab, f"{keys}.length >= 10")
    await tab.page.click("#flow-pause")
    await tab.page.wait_for_timeout(200)  # rows taken before the click are drawn in a frame
    held = await tab.page.evaluate(keys)
    assert len(held) >= 10
    await wait_js(tab, "window.flowtape.lists.flow.heldCount >= 5")
    await tab.page.wait_for_timeout(500)
    assert await tab.page.evaluate(keys) == held
    # The counter is drawn once per frame and rows keep arriving between frames: it shows the
    # held count as of its last frame, so it is read in a task after a frame with no new rows.
    counter = "document.getElementById('flow-counter').textContent"
    await tab.page.wait_for_function(
        f"{counter} === `paused · ${{window.flowtape.lists.flow.heldCount}} new`",
        polling=50,
        timeout=60_000,
    )
    assert await tab.page.evaluate("window.flowtape.lists.flow.heldCount") >= 5
    await tab.shot("paused")
    await tab.page.click("#flow-pause")
    await wait_js(tab, "window.flowtape.lists.flow.heldCount === 0")
    await tab.page.wait_for_timeout(300)
    assert (await tab.page.evaluate(keys))[0] != held[0]
    assert await tab.page.inner_text("#flow-counter") == ""


async def test_scrolled_down_the_rows_in_view_stay_put_as_new_rows_arrive(tab: Tab) -> None:
    await tab.open("?min_premium=0")
    await wait_js(tab, "window.flowtape.lists.flow.size > 200")
    await tab.page.evaluate("document.getElementById('flow-list').scrollTop = 2200")
    await tab.page.wait_for_timeout(200)
    top = (
        "(() => { const v = document.getElementById('flow-list');"
        " const i = Math.ceil(v.scrollTop / 22);"
        " return window.flowtape.lists.flow.items[i].packet_id; })()"
    )
    before = await tab.page.evaluate(top)
    size = await tab.size("flow")
    await wait_js(tab, f"window.flowtape.lists.flow.size > {size + 5}")
    await tab.page.wait_for_timeout(200)
    assert await tab.page.evaluate(top) == before


async def test_hidden_panels_stay_hidden_after_a_reload(tab: Tab) -> None:
    await tab.open()
    await tab.page.click("#panel-menu summary")
    await tab.page.uncheck('#panel-menu input[data-panel="darkpool"]')
    await tab.page.uncheck('#panel-menu input[data-panel="hits"]')
    assert await tab.page.is_hidden("#panel-darkpool") and await tab.page.is_hidden("#panel-hits")
    await tab.page.reload()
    await tab.page.wait_for_function("window.flowtape !== undefined")
    assert await tab.page.is_hidden("#panel-darkpool") and await tab.page.is_hidden("#panel-hits")
    assert await tab.page.is_visible("#panel-alerts")
    await tab.shot("panels-hidden")


async def test_the_evidence_drawer_shows_money_in_dollars(tab: Tab, stack: RunningUp) -> None:
    alert = stack.get("/v1/alerts", limit=1)["items"][0]
    await tab.open(f"?packet={alert['packet_id']}")
    body = tab.page.locator("#evidence-body")
    await body.locator("h3", has_text="Alerts").wait_for()
    text = await body.inner_text()
    assert "_cents" not in text
    premium = alert["thresholds"].get("min_premium_cents")
    if premium is not None:
        assert f"min_premium ${premium / 100:,.0f}" in text
    premium_shown = await tab.page.evaluate(
        "[...document.querySelectorAll('#evidence-body dt')]"
        ".find(d => d.textContent === 'premium').nextElementSibling.textContent"
    )
    assert premium_shown.startswith("$")
    await tab.shot("evidence")


async def test_at_420_px_the_tape_shows_side_premium_and_size(tab: Tab) -> None:
    await tab.page.set_viewport_size({"width": 420, "height": 860})
    await tab.open("?min_premium=0")
    await wait_js(tab, "window.flowtape.lists.flow.size > 0")
    await tab.page.locator("#panel-flow").scroll_into_view_if_needed()
    drawn = await tab.page.wait_for_function(
        "(() => { const r = document.querySelector('#flow-list .row:not([hidden])');"
        " if (!r) return null;"
        " return ['.c-side', '.c-prem', '.c-size'].map(c => { const e = r.querySelector(c),"
        " b = e.getBoundingClientRect(); return [c, b.left, b.right, e.textContent]; }); })()"
    )
    cells = await drawn.json_value()
    for cell, left, right, text in cells:
        assert 0 <= left and right <= 420 and right - left > 20 and text.strip(), cell
    await tab.shot("narrow-420px")
