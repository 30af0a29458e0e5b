"""The tape's fan-out on its own: bounded per-client queues, drop counts, no waiting."""

from __future__ import annotations

import json

import msgspec

from api.tape import Client, Tape
from infra.bus import LogMessage
from schemas.events import FlowPacket
from tests.integration.api.session import seed_events


def packet_message(seq: int, *underlyings: str) -> LogMessage:
    template = next(e for e in seed_events("live") if isinstance(e, FlowPacket))
    packets = [
        msgspec.structs.replace(template, underlying=u, packet_id=f"{seq}-{i}")
        for i, u in enumerate(underlyings or ["AAPL"])
    ]
    return LogMessage(seq, "flow.drv.flow_packet", "live", packets, raw=None)  # type: ignore[arg-type]


async def test_a_slow_client_loses_messages_with_a_count_while_a_fast_one_gets_all() -> None:
    tape = Tape(services=None, queue_size=3)  # type: ignore[arg-type]
    tape.position = 0
    slow, fast = Client(3, channels={"packets"}), Client(3, channels={"packets"})
    tape.clients |= {slow, fast}
    received = []
    for seq in range(1, 11):
        tape.dispatch(packet_message(seq))  # never waits, whoever is behind
        received.append(json.loads(await fast.next())["seq"])
    assert received == list(range(1, 11))
    assert (slow.dropped_total, tape.metrics.dropped, tape.metrics.deliveries) == (7, 7, 13)
    notice = json.loads(await slow.next())
    assert notice == {"channel": "control", "event": "dropped", "dropped": 7, "dropped_total": 7}
    assert [json.loads(await slow.next())["seq"] for _ in range(3)] == [1, 2, 3]
    tape.dispatch(packet_message(11))
    assert json.loads(await slow.next())["seq"] == 11  # caught up: no further notice


async def test_control_messages_are_never_dropped_and_keep_their_place() -> None:
    client = Client(1, channels={"packets"})
    assert client.offer("data-1") and not client.offer("data-2")
    client.say("ack")
    frames = [await client.next() for _ in range(3)]
    assert json.loads(frames[0])["dropped"] == 1
    assert frames[1:] == ["data-1", "ack"]


async def test_symbols_filter_events_and_a_replayed_sequence_is_not_sent_twice() -> None:
    tape = Tape(services=None, queue_size=10)  # type: ignore[arg-type]
    tape.position = 0
    msft = Client(10, channels={"packets"}, symbols=frozenset({"MSFT"}))
    tape.clients.add(msft)
    tape.dispatch(packet_message(1, "AAPL"))
    tape.dispatch(packet_message(2, "MSFT"))
    tape.dispatch(packet_message(2, "MSFT"))  # a reopened reader may see it again
    assert json.loads(await msft.next())["seq"] == 2
    assert msft.sent == 1 and tape.position == 2 and tape.metrics.deliveries == 1


async def test_a_message_is_one_frame_per_client_holding_the_events_its_symbols_match() -> None:
    tape = Tape(services=None, queue_size=10)  # type: ignore[arg-type]
    tape.position = 0
    every = Client(10, channels={"packets"})
    msft_nvda = Client(10, channels={"packets"}, symbols=frozenset({"MSFT", "NVDA"}))
    spy = Client(10, channels={"packets"}, symbols=frozenset({"SPY"}))
    alerts = Client(10, channels={"alerts"})
    tape.clients |= {every, msft_nvda, spy, alerts}
    tape.dispatch(packet_message(1, "AAPL", "MSFT", "AAPL", "NVDA"))
    frames = {name: json.loads(await c.next()) for name, c in [("every", every), ("mn", msft_nvda)]}
    assert [p["packet_id"] for p in frames["every"]["events"]] == ["1-0", "1-1", "1-2", "1-3"]
    assert [p["packet_id"] for p in frames["mn"]["events"]] == ["1-1", "1-3"]
    assert {f["seq"] for f in frames.values()} == {1}
    assert (tape.metrics.events_read, tape.metrics.deliveries) == (4, 2)  # spy, alerts: none
