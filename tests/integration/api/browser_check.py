# ruff: noqa: T201, ASYNC210, ASYNC220, ASYNC240  (a manual check script: prints, blocks briefly)
"""End-to-end look at the page in a real headless Chromium (not part of the test run).

    python -m tests.integration.api.browser_check /tmp/tape.png

Starts private NATS and ClickHouse, stores the hand-built session, serves the API, opens the
page in Chromium (Debian's `chromium`, driven over the DevTools protocol), publishes a new
packet and its alert on DERIVED (and stores them, as the sink would), checks the row arrived
over the WebSocket, clicks it and saves a screenshot of the tape with the evidence panel.
Prints what it checked; exits non-zero when a check fails.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import json
import shutil
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

import msgspec
from websockets.asyncio.client import connect

from api.app import create_app
from infra.bus import Bus
from infra.embedded import clickhouse_server, free_port, nats_server
from infra.migrate import migrate
from infra.warehouse import Warehouse
from schemas.events import Alert, FlowPacket, PrintInference
from schemas.subjects import derived_subject
from tests.integration.api.conftest import api_settings, serving
from tests.integration.api.session import SECOND, seed_events
from tests.kit.samples import T0


class DevTools:
    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.ids = itertools.count(1)
        self.console: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self.ids)
        await self.ws.send(json.dumps({"id": call_id, "method": method, "params": params}))
        while True:
            message = json.loads(await asyncio.wait_for(self.ws.recv(), 30))
            if message.get("method") in ("Runtime.exceptionThrown", "Runtime.consoleAPICalled"):
                self.console.append(json.dumps(message["params"])[:300])
            if message.get("id") == call_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message["result"]  # type: ignore[no-any-return]

    async def js(self, expression: str) -> Any:
        result = await self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)  # fmt: skip
        return result["result"].get("value")


def new_flow() -> list[Any]:
    """A fresh NVDA sweep with its inference and an alert, 90 s after the seeded session."""
    sweep = next(
        e for e in seed_events("live")
        if isinstance(e, FlowPacket) and e.packet_id == "pkt-aapl-sweep"
    )  # fmt: skip
    alert = next(e for e in seed_events("live") if isinstance(e, Alert))
    members = [msgspec.structs.replace(m, ts_event=m.ts_event + 90 * SECOND) for m in sweep.members]
    packet = msgspec.structs.replace(
        sweep, packet_id="pkt-nvda-live", underlying="NVDA", ts_start=T0 + 90 * SECOND,
        ts_end=members[-1].ts_event, premium_cents=12_345_600, members=members,
    )  # fmt: skip
    inference = [e for e in seed_events("live") if isinstance(e, PrintInference)]
    inference = [msgspec.structs.replace(i, underlying="NVDA", ts_event=i.ts_event + 90 * SECOND)
                 for i in inference]  # fmt: skip
    alert = msgspec.structs.replace(
        alert, alert_id="alert-nvda-live", packet_id=packet.packet_id, underlying="NVDA",
        ts_event=packet.ts_start, severity=5, title="NVDA call sweep $123k", members=members,
    )  # fmt: skip
    return [packet, *inference, alert]


async def main(out: Path) -> int:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        print("no chromium on PATH (apt-get install -y chromium)")
        return 2
    root = Path(tempfile.mkdtemp(prefix="flowtape-browser-"))
    servers = [nats_server(root / "nats"), clickhouse_server(root / "clickhouse")]
    for server in servers:
        server.start()
    chrome: subprocess.Popen[bytes] | None = None
    failures: list[str] = []
    try:
        nats, clickhouse = servers
        warehouse = Warehouse.connect(clickhouse.url, "flowtape")
        migrate(warehouse)
        warehouse.insert_events(seed_events("live"), run_id="live", log_seq=1)
        bus = await Bus.connect(nats.url)
        await bus.ensure_streams()
        settings = api_settings(root, nats.url, clickhouse.url, "flowtape")
        async with serving(create_app(settings)) as api:
            port = free_port()
            chrome = subprocess.Popen(  # noqa: S603  (Debian's chromium, our arguments)
                [browser, "--headless=new", "--no-sandbox", "--disable-gpu",
                 f"--remote-debugging-port={port}", f"--user-data-dir={root / 'chrome'}",
                 "--window-size=1600,900", "about:blank"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            )  # fmt: skip
            targets: list[dict[str, Any]] = []
            for _ in range(100):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list") as r:  # noqa: S310
                        targets = [t for t in json.load(r) if t["type"] == "page"]
                    if targets:
                        break
                except OSError:
                    pass
                await asyncio.sleep(0.1)
            async with connect(targets[0]["webSocketDebuggerUrl"], max_size=None) as ws:
                tools = DevTools(ws)
                await tools.call("Runtime.enable")
                await tools.call("Page.enable")
                await tools.call("Page.navigate", url=api.base_url + "/")
                for _ in range(100):
                    status = await tools.js("document.getElementById('status')?.textContent")
                    if status and status.startswith("live"):
                        break
                    await asyncio.sleep(0.1)
                print(f"status after load: {status!r}")
                history = await tools.js("document.querySelectorAll('#rows tr').length")
                print(f"rows from history: {history}")
                if history != 5:
                    failures.append(f"expected 5 history rows (3 packets, 2 alerts), got {history}")
                flow = new_flow()
                warehouse.insert_events(flow, run_id="live", log_seq=2)  # as the sink would
                for event in flow:
                    await bus.publish(derived_subject(type(event)), [event], run_id="live")
                for _ in range(50):
                    live = await tools.js(
                        "document.querySelectorAll('tr[data-packet=\"pkt-nvda-live\"]').length"
                    )
                    if live == 2:
                        break
                    await asyncio.sleep(0.1)
                first = await tools.js(
                    "[...document.querySelector('#rows tr').cells].map(c => c.textContent)"
                )
                print(f"live rows for the new packet: {live}; top row: {first}")
                if live != 2:
                    failures.append(
                        f"expected the packet and its alert over the WebSocket, got {live}"
                    )
                await tools.js(
                    "document.querySelector('tr[data-packet=\"pkt-nvda-live\"]:not(.alert-row)')"
                    ".click()"
                )
                for _ in range(50):
                    members = await tools.js(
                        "document.querySelectorAll('#evidence-body table')[1]"
                        "?.tBodies[0].rows.length"
                    )
                    if members:
                        break
                    await asyncio.sleep(0.1)
                heading = await tools.js("document.querySelector('#evidence-body h2')?.textContent")
                print(f"evidence: {heading!r}, member print rows: {members}")
                if members != 2:
                    failures.append(f"expected 2 member prints in the evidence, got {members}")
                shot = await tools.call("Page.captureScreenshot", format="png")
                out.write_bytes(base64.b64decode(shot["data"]))
                print(f"screenshot: {out}")
                await tools.js(
                    "document.getElementById('speed').value = '0';"
                    "document.getElementById('play').click()"
                )
                for _ in range(50):
                    played = await tools.js("document.getElementById('status').textContent")
                    if "finished" in (played or ""):
                        break
                    await asyncio.sleep(0.1)
                rows = await tools.js("document.querySelectorAll('#rows tr').length")
                print(f"playback: {played!r}, rows: {rows}")
                if rows != 7:
                    failures.append(
                        f"expected 7 rows played back (4 packets, 3 alerts), got {rows}"
                    )
                if tools.console:
                    print("console:", *tools.console, sep="\n  ")
        await bus.close()
        warehouse.close()
    finally:
        if chrome is not None:
            chrome.terminate()
            chrome.wait(10)
        for server in reversed(servers):
            server.stop()
        shutil.rmtree(root, ignore_errors=True)
    for failure in failures:
        print(f"FAILED: {failure}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(Path(sys.argv[1] if len(sys.argv) > 1 else "tape.png"))))
