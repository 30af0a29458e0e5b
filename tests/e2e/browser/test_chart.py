"""The chart in Chromium: candles with the flow as markers; a click on one opens its evidence."""

from __future__ import annotations

import pytest
from playwright.async_api import TimeoutError as PlaywrightTimeout

from tests.e2e.browser.conftest import Tab

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
