"""Fuzz the WebSocket tape's command parser: the text frames a client sends `/v1/ws`.

Each input is applied by the router's own command handler (`api.routers.ws._command`) to a
real `Tape` that is following DERIVED (its position set, no NATS needed for the tape's own
channels) and a real `CandleFeed` whose NATS and ClickHouse are down (their last connection
attempt failed and no retry is due), as the API runs when they are away. An input starting
with 0x00 is the frame's text as sent; any other is a command built from the fuzzed bytes
with the protocol's fields. The property: every command is answered with at least one
control frame, and every error frame says why (`detail`).
"""

from __future__ import annotations

import asyncio
import json
import math
import re
from collections.abc import Iterator

import atheris
from fuzzing import Violation, run

with atheris.instrument_imports(include=["api.routers.ws", "api.tape", "api.candle_feed"]):
    from api.candle_feed import CandleFeed
    from api.routers.ws import _command
    from api.tape import CHANNEL_NAMES, Client, Tape

from api.services import Services
from infra.settings import Settings

AWAY = "127.0.0.1:9"  # the discard port: nothing listens on loopback here
END = "fuzz: end of answers"
_loop = asyncio.new_event_loop()
_services = Services(
    Settings(),
    urls={"nats": f"nats://{AWAY}", "clickhouse": f"http://{AWAY}"},
    _bus_lock=asyncio.Lock(),
    _last_attempt={"nats": math.inf, "clickhouse": math.inf},  # down, no retry due
)
_tape = Tape(_services, queue_size=100)
_tape.position = 1_000
_tape.ready.set()
_candles = CandleFeed(_services, seed_wait_s=0.01)
_CODE = re.compile(r"\[(\w+)\]")
_PARTS = re.compile(r"[\[{('\"].*")


def one(data: bytes) -> list[str]:
    if not data:
        return []
    if data[0] == 0:
        text = data[1:].decode("utf-8", "replace")
    else:
        text = _built_command(atheris.FuzzedDataProvider(data[1:]))
    return _loop.run_until_complete(_answers(text))


async def _answers(text: str) -> list[str]:
    client = Client(queue_size=100)
    try:
        replay = await _command(_tape, _candles, client, text, None)
        if replay is not None:  # a since_seq replay would read DERIVED: not this parser's job
            replay.cancel()
            await asyncio.gather(replay, return_exceptions=True)
        client.say(END)
        frames = []
        while (sent := await client.next()) != END:
            frames.append(json.loads(sent))
    finally:
        _tape.remove(client)
        _candles.remove(client)
    controls = [frame for frame in frames if frame.get("channel") == "control"]
    if not controls:
        raise Violation(f"no control frame answered {text[:80]!r}")
    reasons = []
    for frame in controls:
        if frame.get("event") == "error":
            detail = str(frame.get("detail") or "")
            if not detail.strip():
                raise Violation(f"an error frame without a detail for {text[:80]!r}")
            plain = _CODE.sub(r"\1", detail)  # "[unavailable] ..." keeps its code
            reasons.append(_PARTS.sub("", plain).strip()[:60] or detail[:20])
    return reasons


def _built_command(fdp: atheris.FuzzedDataProvider) -> str:
    names = [*CHANNEL_NAMES, "candles"]
    command: dict[str, object] = {
        "action": fdp.PickValueInList(["subscribe", "unsubscribe", "ping", "auth", "", "x"]),
    }
    if fdp.ConsumeBool():
        command["channels"] = [
            fdp.PickValueInList(names) if fdp.ConsumeBool() else fdp.ConsumeUnicode(8)
            for _ in range(fdp.ConsumeIntInRange(0, 3))
        ]
    if fdp.ConsumeBool():
        command["symbols"] = [fdp.ConsumeUnicode(12) for _ in range(fdp.ConsumeIntInRange(0, 3))]
    if fdp.ConsumeBool():
        command["since_seq"] = fdp.ConsumeInt(fdp.ConsumeIntInRange(1, 9))
    if fdp.ConsumeBool():
        command["tf"] = fdp.PickValueInList(["1s", "1m", "5m", "1h", "1d", ""]) + (
            fdp.ConsumeUnicode(3) if fdp.ConsumeBool() else ""
        )
    if fdp.ConsumeBool():
        command["kind"] = fdp.PickValueInList(["contract", "equity", "crypto", "cme", "x"])
    if fdp.ConsumeBool():
        command[fdp.ConsumeUnicode(6)] = fdp.ConsumeInt(2)
    return json.dumps(command)


def seeds() -> Iterator[bytes]:
    commands = [
        {"action": "subscribe", "channels": ["packets", "alerts"], "symbols": ["AAPL"]},
        {"action": "subscribe", "channels": ["hits"], "since_seq": 990},
        {
            "action": "subscribe",
            "channels": ["candles"],
            "symbols": ["AAPL"],
            "tf": "1m",
            "kind": "equity",
        },  # fmt: skip
        {"action": "subscribe", "channels": ["candles"], "symbols": ["AAPL  240119C00190000"]},
        {"action": "unsubscribe", "channels": ["hits"]},
        {"action": "unsubscribe"},
        {"action": "ping"},
    ]
    for command in commands:
        yield b"\x00" + json.dumps(command).encode()
    yield b"\x00not json"
    yield b"\x01" + bytes(range(1, 64))


if __name__ == "__main__":
    run("ws_commands", one, seeds())
