"""A stored run in Chromium: picked, played back (clock, completion, pause, seek), never mixed
with live rows; a failed playback's reason; channels toggled quickly."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.e2e.browser.conftest import STORED_RUN, Tab

pytestmark = pytest.mark.slow

# The stored run (tests/integration/api/session.py): three packets at T0, +30 s and +60 s and
# the alerts raised on the first two.
PACKETS = {"pkt-aapl-sweep", "pkt-msft-sweep", "pkt-aapl-block"}
ALERTS = {"alert-aapl-sweep", "alert-msft-spike"}

ROWS = (
    "({flow: window.flowtape.lists.flow.all().map(p => [p.packet_id, p.run_id]),"
    " alerts: window.flowtape.lists.alerts.all().map(a => [a.alert_id, a.run_id])})"
)


async def pick_stored_run(tab: Tab) -> None:
    await tab.open("?min_premium=0")
    await tab.page.wait_for_function("window.flowtape.lists.flow.size > 0")  # live rows first
    await tab.page.select_option("#run", STORED_RUN)
    await tab.page.wait_for_function(
        "document.getElementById('status').textContent.includes('press Play')"
    )


async def rows(tab: Tab) -> tuple[set[str], set[str]]:
    found = await tab.page.evaluate(ROWS)
    assert {run for _, run in found["flow"] + found["alerts"]} <= {STORED_RUN}, found
    ids = [i for i, _ in found["flow"]], [i for i, _ in found["alerts"]]
    assert len(set(ids[0])) == len(ids[0]) and len(set(ids[1])) == len(ids[1]), ids
    return set(ids[0]), set(ids[1])


async def test_a_stored_run_plays_back_with_a_moving_clock_and_no_live_rows(tab: Tab) -> None:
    await pick_stored_run(tab)
    assert await rows(tab) == (set(), set())
    await tab.page.fill("#speed", "fast")
    await tab.page.click("#pb-play")
    status = await tab.page.inner_text("#status")
    assert status.startswith("speed: expected a number above 0") and '"fast"' in status
    assert await rows(tab) == (set(), set())

    await tab.page.fill("#speed", "10")
    await tab.page.click("#pb-play")
    await tab.page.wait_for_function("document.getElementById('pb-clock').textContent !== '—'")
    clocks = {await tab.page.inner_text("#pb-clock")}
    percents = {await tab.page.inner_text("#pb-percent")}
    await tab.shot("playback-playing")
    deadline = time.monotonic() + 60
    while "finished" not in await tab.page.inner_text("#status"):
        assert time.monotonic() < deadline, "playback did not finish"
        clocks.add(await tab.page.inner_text("#pb-clock"))
        percents.add(await tab.page.inner_text("#pb-percent"))
        packets, alerts = await rows(tab)  # every sample: stored rows only
        assert packets <= PACKETS and alerts <= ALERTS
        await asyncio.sleep(0.2)
    clocks.add(await tab.page.inner_text("#pb-clock"))
    assert len(clocks) == 3, clocks  # T0, +30 s, +60 s
    percents.add(await tab.page.inner_text("#pb-percent"))
    assert percents == {"0%", "50%", "100%"}  # the run spans T0 .. T0 + 60 s
    assert "playing back replay-a at 10×" not in await tab.page.inner_text("#status")
    await asyncio.sleep(1.5)  # live flow goes on meanwhile
    assert await rows(tab) == (PACKETS, ALERTS)
    await tab.shot("playback-finished")

    await tab.page.evaluate(
        "(() => { const s = document.getElementById('pb-seek'); s.value = '450';"
        " s.dispatchEvent(new Event('change')); })()"
    )
    await tab.page.wait_for_function(
        "document.getElementById('status').textContent.includes('finished')"
        " && window.flowtape.lists.flow.size > 0"
    )
    assert (await rows(tab))[0] == {"pkt-msft-sweep", "pkt-aapl-block"}  # from T0 + 27 s


async def test_pausing_a_playback_holds_its_clock_and_play_resumes_it(tab: Tab) -> None:
    await pick_stored_run(tab)
    await tab.page.fill("#speed", "2")
    await tab.page.click("#pb-play")
    await tab.page.wait_for_function("window.flowtape.lists.flow.size > 0")
    await tab.page.click("#pb-pause")
    held = await tab.page.inner_text("#pb-clock"), await rows(tab)
    assert "paused" in await tab.page.inner_text("#status")
    await asyncio.sleep(2)
    assert (await tab.page.inner_text("#pb-clock"), await rows(tab)) == held
    await tab.page.fill("#speed", "20")
    await tab.page.click("#pb-play")
    await tab.page.wait_for_function(
        "document.getElementById('status').textContent.includes('finished')", timeout=60_000
    )
    assert await rows(tab) == (PACKETS, ALERTS)


async def test_a_failed_playback_shows_the_servers_reason(tab: Tab) -> None:
    await tab.open("?run=no-such-run")
    await tab.page.fill("#speed", "5")
    await tab.page.click("#pb-play")
    await tab.page.wait_for_function(
        "document.getElementById('status').textContent.includes('failed')"
    )
    status = await tab.page.inner_text("#status")
    assert status == (
        "playback of no-such-run failed — 404: no run 'no-such-run': not registered and no "
        "stored rows"
    )
    await tab.shot("playback-failed")
    assert await tab.size("flow") == 0


async def test_toggling_channels_quickly_leaves_no_duplicate_or_stale_row(tab: Tab) -> None:
    await tab.open("?min_premium=0")
    # rows arrive in `incoming` and are drawn into `items` at the next frame
    await tab.page.wait_for_function("window.flowtape.lists.flow.items.length > 0")
    top = await tab.page.evaluate("window.flowtape.lists.flow.items[0].underlying")
    await tab.page.click("#panel-menu summary")
    for round_ in range(6):
        for panel in ("alerts", "flow", "hits"):
            await tab.page.click(f'#panel-menu input[data-panel="{panel}"]')
        await tab.page.fill("#f-symbols", top if round_ % 2 else "")
        await tab.page.click("#filters button[type=submit]")
    # six rounds: every panel is shown again, the symbol filter ends on `top`
    await tab.page.wait_for_function("window.flowtape.lists.flow.size > 0", timeout=60_000)
    await asyncio.sleep(2)
    found = await tab.page.evaluate(
        "({flow: window.flowtape.lists.flow.all().map(p => [p.packet_id, p.underlying]),"
        " alerts: window.flowtape.lists.alerts.all().map(a => [a.alert_id, a.underlying]),"
        " hits: window.flowtape.lists.hits.all().map(h => [h.hit_id, h.underlying]),"
        " drawn: [...document.querySelectorAll('#flow-list .row:not([hidden])')]"
        ".map(r => r.dataset.key)})"
    )
    for name in ("flow", "alerts", "hits"):
        ids = [i for i, _ in found[name]]
        assert len(ids) == len(set(ids)), f"{name} shows a row twice"
        assert {u for _, u in found[name]} <= {top}, f"{name} keeps a stale row"
    assert len(found["drawn"]) == len(set(found["drawn"]))
    await tab.shot("toggled")
