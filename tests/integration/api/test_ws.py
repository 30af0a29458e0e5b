"""The live tape over a real WebSocket: DERIVED messages published on the real NATS."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import msgspec
from websockets.asyncio.client import ClientConnection, connect

from api.views import plain
from infra.bus import Bus
from schemas.events import Alert, FlowPacket
from schemas.subjects import derived_subject
from tests.integration.api.conftest import Api
from tests.integration.api.session import seed_events

PACKETS = derived_subject(FlowPacket)
ALERTS = derived_subject(Alert)


def live_events() -> dict[str, Any]:
    events = seed_events("live")
    found: dict[str, Any] = {}
    for event in events:
        key = getattr(event, "alert_id", None) or getattr(event, "packet_id", None)
        if isinstance(event, FlowPacket | Alert):
            found[key] = event
    return found


async def receive(ws: ClientConnection, timeout_s: float = 10.0) -> dict[str, Any]:
    return json.loads(await asyncio.wait_for(ws.recv(), timeout_s))  # type: ignore[no-any-return]


async def subscribe(ws: ClientConnection, **command: Any) -> dict[str, Any]:
    await ws.send(json.dumps({"action": "subscribe", **command}))
    ack = await receive(ws)
    assert ack["channel"] == "control" and ack["event"] == "subscribed", ack
    return ack


async def tape_passed(api: Api, seq: int, timeout_s: float = 10.0) -> None:
    async with httpx.AsyncClient(base_url=api.base_url) as client:
        for _ in range(int(timeout_s / 0.05)):
            if ((await client.get("/health")).json()["tape"]["position"] or 0) >= seq:
                return
            await asyncio.sleep(0.05)
    raise AssertionError(f"the tape did not pass seq {seq}")


async def test_a_published_packet_reaches_the_subscriber_of_its_symbol_and_not_another(
    api: Api, bus: Bus
) -> None:
    events = live_events()
    aapl_packet, msft_packet = events["pkt-aapl-sweep"], events["pkt-msft-sweep"]
    async with connect(api.ws_url) as aapl, connect(api.ws_url) as msft:
        await subscribe(aapl, channels=["packets"], symbols=["AAPL"])
        await subscribe(msft, channels=["packets"], symbols=["msft"])  # symbols are upper-cased
        [aapl_seq] = await bus.publish(PACKETS, [aapl_packet], run_id="live")
        [msft_seq] = await bus.publish(PACKETS, [msft_packet], run_id="live")

        got = await receive(aapl)
        assert {k: got[k] for k in ("channel", "source", "seq")} == {
            "channel": "packets", "source": "live", "seq": aapl_seq,
        }  # fmt: skip
        assert got["events"] == [json.loads(msgspec.json.encode(plain(aapl_packet)))]
        assert got["events"][0]["members"][0]["nbbo_ask_px_dollars"] == 1.5  # named, not arrays

        # The MSFT subscriber's first message is the later MSFT packet: the AAPL one, published
        # before it on the same stream, was not sent to it.
        first = await receive(msft)
        assert (first["seq"], first["events"][0]["packet_id"]) == (msft_seq, "pkt-msft-sweep")


async def test_the_tape_is_not_compressed_unless_asked(api: Api) -> None:
    async with connect(api.ws_url) as ws:  # the client offers permessage-deflate
        assert ws.protocol.extensions == []
        assert "Sec-WebSocket-Extensions" not in ws.response.headers


async def test_a_subscriber_gets_only_its_channels(api: Api, bus: Bus) -> None:
    events = live_events()
    async with connect(api.ws_url) as ws:
        await subscribe(ws, channels=["alerts"], symbols=[])
        await bus.publish(PACKETS, [events["pkt-aapl-sweep"]], run_id="live")
        [alert_seq] = await bus.publish(ALERTS, [events["alert-aapl-sweep"]], run_id="live")
        got = await receive(ws)
        assert (got["channel"], got["seq"]) == ("alerts", alert_seq)
        assert got["events"][0]["baselines"][0]["z"] == 3.5


async def test_since_seq_replays_earlier_messages_then_continues_live(api: Api, bus: Bus) -> None:
    events = live_events()
    [early] = await bus.publish(PACKETS, [events["pkt-aapl-sweep"]], run_id="live")
    [later] = await bus.publish(PACKETS, [events["pkt-msft-sweep"]], run_id="live")
    await tape_passed(api, later)  # both are history by the time we subscribe
    async with connect(api.ws_url) as ws:
        ack = await subscribe(ws, channels=["packets"], symbols=["AAPL"], since_seq=early)
        assert ack["replay_from"] == early
        replayed = await receive(ws)
        assert (replayed["seq"], replayed["events"][0]["packet_id"]) == (early, "pkt-aapl-sweep")
        [late] = await bus.publish(PACKETS, [events["pkt-aapl-block"]], run_id="live")
        live = await receive(ws)
        assert (live["seq"], live["events"][0]["packet_id"]) == (late, "pkt-aapl-block")


async def test_without_since_seq_only_new_messages_arrive(api: Api, bus: Bus) -> None:
    events = live_events()
    [old] = await bus.publish(PACKETS, [events["pkt-aapl-sweep"]], run_id="live")
    await tape_passed(api, old)  # history by the time we subscribe
    async with connect(api.ws_url) as ws:
        await subscribe(ws, channels=["packets"])
        [new] = await bus.publish(PACKETS, [events["pkt-aapl-block"]], run_id="live")
        got = await receive(ws)
        assert (got["seq"], got["events"][0]["packet_id"]) == (new, "pkt-aapl-block")


async def test_unsubscribing_a_channel_stops_its_messages(api: Api, bus: Bus) -> None:
    events = live_events()
    async with connect(api.ws_url) as ws:
        await subscribe(ws, channels=["packets", "alerts"])
        await ws.send(json.dumps({"action": "unsubscribe", "channels": ["packets"]}))
        ack = await receive(ws)
        assert (ack["event"], ack["channels"]) == ("unsubscribed", ["alerts"])
        await bus.publish(PACKETS, [events["pkt-aapl-sweep"]], run_id="live")
        [alert_seq] = await bus.publish(ALERTS, [events["alert-aapl-sweep"]], run_id="live")
        got = await receive(ws)
        assert (got["channel"], got["seq"]) == ("alerts", alert_seq)


async def test_a_bad_command_gets_an_error_and_the_connection_stays_usable(api: Api) -> None:
    async with connect(api.ws_url) as ws:
        await ws.send("not json")
        error = await receive(ws)
        assert error["event"] == "error" and "JSON command" in error["detail"]
        await ws.send(json.dumps({"action": "subscribe", "channels": ["trades"]}))
        error = await receive(ws)
        assert error["event"] == "error" and "packets" in error["detail"]
        await ws.send(json.dumps({"action": "dance"}))
        assert "subscribe" in (await receive(ws))["detail"]
        await subscribe(ws, channels=["packets"])
        await ws.send(json.dumps({"action": "ping"}))
        assert (await receive(ws))["event"] == "pong"
