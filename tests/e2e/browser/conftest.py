"""The web page in headless Chromium (Debian's, installed by web/ensure-web.sh) driven by
Playwright, against `flowtape up` on the synthetic market.

One `flowtape up` serves the whole module set (servers, services, API; the synthetic market
at 10x so that sweeps, golden sweeps, blocks and dark-pool prints come within seconds). A
small stored run (`replay-a`, the API tests' hand-built session) is added to its ClickHouse
for playback. Screenshots of each state are saved in build/browser-screenshots/.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, ConsoleMessage, Page, async_playwright

from infra.embedded import free_port
from infra.runs import register_run
from infra.warehouse import Warehouse
from tests.e2e.test_cli_up import flowtape_env, interrupt
from tests.integration.api.session import seed_events

CHROMIUM = "/usr/bin/chromium"
# A live packet or contract can reach the page before the sink has stored it: the evidence
# drawer asks again and the chart on its next refresh; meanwhile the browser logs each 404.
STORED_SOON = re.compile(r"status of 404 .*/v1/(packets|candles)/[^?]*\?.*run_id=live")
# Chromium on a closed network: no background connections, no component updates, no QUIC.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
SCREENSHOTS = Path(__file__).resolve().parents[3] / "build" / "browser-screenshots"
STORED_RUN = "replay-a"
SYNTHETIC = "--minutes 390 --speed 10 --seed 0"


@dataclass
class RunningUp:
    folder: Path
    process: subprocess.Popen[str] | None
    output: list[str] = field(default_factory=list)

    @property
    def record(self) -> dict[str, object]:
        return json.loads((self.folder / ".flowtape" / "stack.json").read_text())  # type: ignore[no-any-return]

    @property
    def url(self) -> str:
        return str(self.record["api_url"])

    def get(self, path: str, **params: str | int) -> Any:
        response = httpx.get(f"{self.url}{path}", params=params, timeout=30)
        response.raise_for_status()
        return response.json()

    def warehouse(self) -> Warehouse:
        urls = self.record["urls"]
        assert isinstance(urls, dict)
        return Warehouse.connect(urls["clickhouse"], "flowtape")


def wait_for(condition: Callable[[], object], what: str, timeout_s: float = 120.0) -> object:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        try:
            found = condition()
            if found:
                return found
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def prepare(running: RunningUp) -> None:
    """The stored run, and the synthetic market's first golden sweep and dark-pool event."""
    wait_for(lambda: running.get("/health")["status"] == "ok", "flowtape up's API", 240)
    with running.warehouse() as warehouse:
        if not warehouse.scalar(
            "SELECT count() FROM runs WHERE run_id = {r:String}", {"r": STORED_RUN}
        ):
            warehouse.insert_events(seed_events(STORED_RUN), run_id=STORED_RUN)
            register_run(warehouse, STORED_RUN, kind="replay", description="a stored run",
                         params={}, status="done")  # fmt: skip
    # the synthetic market takes minutes to start publishing on a loaded machine
    golden = {"rule": "golden_sweep"}
    wait_for(lambda: running.get("/v1/hits", **golden)["count"], "a golden sweep", 360)
    wait_for(lambda: running.get("/v1/darkpool")["count"], "a dark-pool inference")
    wait_for(lambda: running.get("/v1/packets", kind="block")["count"], "a block")


# package scope: `flowtape up` and Chromium stop when the browser tests end, not with the session
@pytest.fixture(scope="package")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningUp]:
    """`flowtape up` for these tests; FLOWTAPE_BROWSER_UP names the folder of one already
    running (started with SYNTHETIC's options) to use instead, while iterating."""
    given = os.environ.get("FLOWTAPE_BROWSER_UP")
    if given:
        running = RunningUp(Path(given), None)
        prepare(running)
        yield running
        return
    folder = tmp_path_factory.mktemp("browser-up")
    process = subprocess.Popen(
        [sys.executable, "-m", "cli.main", "up", "--source-args", SYNTHETIC],
        cwd=folder, env={**flowtape_env(folder), "API_PORT": str(free_port())},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    running = RunningUp(folder, process)
    assert process.stdout is not None
    reader = threading.Thread(target=lambda: running.output.extend(process.stdout), daemon=True)  # type: ignore[arg-type]
    reader.start()
    try:
        prepare(running)
        yield running
    except AssertionError as failed:
        said = "".join(running.output)[-3000:]
        raise AssertionError(f"{failed}; flowtape up said:\n{said}") from None
    finally:
        if process.poll() is None:
            running.output.append(interrupt(process))
        reader.join(10)


@pytest_asyncio.fixture(scope="package")
async def browser() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()


@dataclass
class Tab:
    """A page of the UI with the errors its console printed."""

    page: Page
    base_url: str
    errors: list[str]

    async def open(self, query: str = "") -> None:
        await self.page.goto(f"{self.base_url}/{query}")
        await self.page.wait_for_function("window.flowtape !== undefined")

    async def size(self, panel: str) -> int:
        return int(await self.page.evaluate(f"window.flowtape.lists.{panel}.size"))

    async def shot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        await self.page.screenshot(path=path)
        return path


@pytest_asyncio.fixture
async def tab(stack: RunningUp, browser: Browser) -> AsyncIterator[Tab]:
    context = await browser.new_context(viewport={"width": 1600, "height": 900})
    page = await context.new_page()
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        said = f"{message.text} ({message.location.get('url', '')})"  # a fetch's resource
        if message.type == "error" and not STORED_SOON.search(said):
            errors.append(said)

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield Tab(page, stack.url, errors)
    await context.close()
