"""Only derived frames leave through the paid stream: every route and channel the API serves
is listed with what it answers a caller holding no key, and the key-less ones are exactly the
reviewed list below. The paid WebSocket carries alpha frames and nothing of RAW, even while
raw CME trades are being published."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets
from eth_account.signers.local import LocalAccount
from fastapi.routing import APIRoute, APIWebSocketRoute
from starlette.routing import BaseRoute, Mount

from api.alpha_feed import ALPHA_SUBJECT
from api.app import create_app
from api.tape import CHANNELS
from infra.bus import Bus
from infra.settings import Settings
from infra.warehouse import Warehouse
from payments.client import AlphaSubscriber
from schemas.cme import CmeTrade
from schemas.subjects import raw_subject
from tests.conftest import Servers
from tests.integration.api.conftest import serving
from tests.integration.payments.chain import LocalChain
from tests.integration.payments.frames import alpha_frame
from tests.integration.payments.session import Clock, Payer, gateway

pytestmark = pytest.mark.slow

# Reviewed: what anyone may reach without an API key. Docs, the page and its assets, health
# and metrics (METRICS_PUBLIC), and the paid stream, whose key is a payment.
KEYLESS = {
    "GET /openapi.json", "GET /docs", "GET /docs/oauth2-redirect", "GET /redoc", "GET /",
    "GET /health", "GET /metrics", "GET /skills", "GET /mpp/session", "WS /ws/stream/{symbol}",
}  # fmt: skip
STATIC_MOUNTS = {"/static-offline-docs", "/web"}
PATH_VALUES = {"{run_id}": "live", "{packet_id}": "x", "{key}": "CL", "{name}": "x",
               "{symbol}": "CL"}  # fmt: skip


def routes(items: list[BaseRoute]) -> Iterator[BaseRoute]:
    for item in items:
        included = getattr(item, "original_router", None)
        if included is not None:
            yield from routes(included.routes)
        else:
            yield item


def concrete(path: str) -> str:
    for name, value in PATH_VALUES.items():
        path = path.replace(name, value)
    return path


async def keyless_answer(base_url: str, label: str, path: str, paid_token: str) -> str:
    """`open` when a caller without an API key gets data or a payment challenge; else
    `refused`. WebSockets are offered a paid stream token (a payment, not a key)."""
    if label.startswith("WS "):
        url = base_url.replace("http://", "ws://") + concrete(path) + f"?token={paid_token}"
        try:
            async with websockets.connect(url) as ws:
                await ws.send(json.dumps({"action": "subscribe", "channels": ["packets"]}))
                await ws.send(json.dumps({"t": "subscribe", "symbols": ["CL"]}))
                reply = json.loads(await asyncio.wait_for(ws.recv(), 10))
                # The tape's answer to a first message that is not `auth`: an error, then close.
                return "refused" if reply.get("event") == "error" else "open"
        except websockets.InvalidStatus as refused:
            return "refused" if refused.response.status_code in (401, 403) else "open"
    method = label.split()[0]
    async with httpx.AsyncClient(timeout=30) as http:
        response = await http.request(method, base_url + concrete(path), params={"symbol": "CL"})
    return "refused" if response.status_code in (401, 403) else "open"


async def test_every_route_without_a_key_is_reviewed_and_none_serves_raw_cme(
    chain: LocalChain, servers: Servers, warehouse: Warehouse, tmp_path: Path, bus: Bus
) -> None:
    payee: LocalAccount = chain.account()
    gw = gateway(chain, payee, servers.redis_url, Clock())
    await gw.ledger.client.flushdb()
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        FLOWTAPE_DATA_DIR=str(tmp_path), NATS_URL=servers.nats_url,
        CLICKHOUSE_URL=servers.clickhouse_url, CLICKHOUSE_DATABASE=warehouse.database,
        API_AUTH="keys",
    )  # fmt: skip
    app = create_app(settings, payments=gw)
    listed: dict[str, str] = {}
    async with serving(app) as api, httpx.AsyncClient(timeout=30) as http:
        payer = Payer.open(chain, payee.address)
        client = AlphaSubscriber(api.base_url, "CL", payer.channel, payer.account.address, http)
        await client.pay()
        for route in routes(app.routes):
            if isinstance(route, Mount):
                assert route.path in STATIC_MOUNTS, f"an unreviewed mount {route.path}"
                continue
            if isinstance(route, APIWebSocketRoute):
                labels = [f"WS {route.path}"]
            else:
                assert isinstance(route, APIRoute) or hasattr(route, "methods")
                methods = sorted(set(getattr(route, "methods", ())) - {"HEAD"})
                labels = [f"{m} {route.path}" for m in methods]  # type: ignore[attr-defined]
            for label in labels:
                path = label.split()[1]
                listed[label] = await keyless_answer(api.base_url, label, path, client.token)
        open_routes = {label for label, answer in listed.items() if answer == "open"}
        assert open_routes == KEYLESS, listed
        assert not [label for label in listed if "raw" in label.lower() or "cme" in label.lower()]
        # Channels: the free tape and the paid stream read DERIVED subjects only.
        assert all(subject.startswith("flow.drv.") for subject in CHANNELS)
        assert ALPHA_SUBJECT == "flow.drv.alpha_frame"
        await _paid_stream_carries_no_raw_event(client, bus)
    await gw.ledger.close()


async def _paid_stream_carries_no_raw_event(client: AlphaSubscriber, bus: Bus) -> None:
    received: list[dict[str, Any]] = []
    stop = asyncio.Event()

    def on_frame(frame: dict[str, Any]) -> None:
        received.append(frame)
        if frame["frame_id"] == "CL-3":
            stop.set()

    async def publish() -> None:
        await asyncio.sleep(0.5)  # the subscription is in place
        for n in (1, 2, 3):
            trade = CmeTrade(
                ts_recv=n, ts_event=n, publisher_id=1, instrument_id=42, source="databento",
                symbol="CLM7", sequence=n, price=70_000_000_000, size=1, side="B",
            )  # fmt: skip
            await bus.publish(raw_subject(CmeTrade, "databento"), [trade], run_id="live")
            await bus.publish(ALPHA_SUBJECT, [alpha_frame("CL", n, n)], run_id="live")

    publishing = asyncio.create_task(publish())
    await asyncio.wait_for(client.stream(on_frame, stop=stop), 30)
    await publishing
    assert [f["frame_id"] for f in received] == ["CL-1", "CL-2", "CL-3"]
    assert {f["type"] for f in received} == {"alpha_frame"}
