"""Live tape commands: applied in the order sent; binary frames answered; origins checked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import InvalidStatus

from infra.bus import Bus
from tests.integration.api.conftest import Api


async def receive(ws: ClientConnection) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), 10))  # type: ignore[no-any-return]


async def test_an_unsubscribe_sent_right_after_a_subscribe_is_applied_after_it(
    api: Api, bus: Bus
) -> None:
    async with connect(api.ws_url) as ws:
        for _ in range(8):
            await ws.send(json.dumps({"action": "subscribe", "channels": ["packets"]}))
            await ws.send(json.dumps({"action": "unsubscribe"}))
            first, second = await receive(ws), await receive(ws)
            assert (first["event"], second["event"]) == ("subscribed", "unsubscribed")
            assert second["channels"] == []
        await ws.send(json.dumps({"action": "ping"}))
        assert (await receive(ws))["event"] == "pong"
        assert [c.channels for c in api.app.state.tape.clients] == []


async def test_a_binary_frame_gets_an_error_and_the_connection_stays_open(
    api: Api, bus: Bus
) -> None:
    async with connect(api.ws_url) as ws:
        await ws.send(b'{"action": "ping"}')
        error = await receive(ws)
        assert error["event"] == "error" and "binary" in error["detail"]
        await ws.send(json.dumps({"action": "ping"}))
        assert (await receive(ws))["event"] == "pong"


@pytest.mark.parametrize(
    ("origin", "opens"),
    [
        (None, True),  # not a browser
        ("http://localhost:5173", True),
        ("http://127.0.0.1:8000", True),
        ("https://evil.example", False),
        ("http://localhost.evil.example", False),
    ],
)
async def test_browser_origins_are_checked_against_the_allow_list(
    api: Api, bus: Bus, origin: str | None, opens: bool
) -> None:
    headers = {"Origin": origin} if origin else {}
    if opens:
        async with connect(api.ws_url, additional_headers=headers) as ws:
            await ws.send(json.dumps({"action": "ping"}))
            assert (await receive(ws))["event"] == "pong"
    else:
        with pytest.raises(InvalidStatus) as refused:
            async with connect(api.ws_url, additional_headers=headers):
                pass
        assert refused.value.response.status_code == 403
