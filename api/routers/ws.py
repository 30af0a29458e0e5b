"""`/v1/ws`: the live tape over WebSocket; the protocol is in api/tape.py."""

from __future__ import annotations

import asyncio

import msgspec
from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from api.dependencies import TapeDep
from api.tape import CHANNEL_NAMES, Client, Tape, control

router = APIRouter()


@router.websocket("/v1/ws")
async def live_tape(websocket: WebSocket, tape: TapeDep) -> None:
    """The live tape; protocol in api/tape.py."""
    await websocket.accept()
    client = Client(tape.queue_size)
    sender = asyncio.create_task(_send(websocket, client))
    subscribing: asyncio.Task[None] | None = None
    try:
        while True:
            text = await websocket.receive_text()
            subscribing = await _command(tape, client, text, subscribing)
    except WebSocketDisconnect:
        pass
    finally:
        tape.remove(client)
        for task in (sender, subscribing):
            if task is not None:
                task.cancel()
        await asyncio.gather(
            sender, *([subscribing] if subscribing else []), return_exceptions=True
        )


class _Command(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    channels: list[str] | None = None
    symbols: list[str] | None = None
    since_seq: int | None = None


_command_decoder = msgspec.json.Decoder(_Command)


async def _command(
    tape: Tape, client: Client, text: str, subscribing: asyncio.Task[None] | None
) -> asyncio.Task[None] | None:
    """Apply one client command; returns the running subscription task, if any."""
    try:
        command = _command_decoder.decode(text)
    except msgspec.DecodeError as exc:
        client.say(
            control(
                "error", detail=f'expected a JSON command {{"action": "subscribe", ...}}: {exc}'
            )
        )
        return subscribing
    unknown = sorted(set(command.channels or []) - set(CHANNEL_NAMES))
    if unknown:
        client.say(
            control(
                "error",
                detail=f"unknown channels {unknown}; expected some of {list(CHANNEL_NAMES)}",
            )
        )
        return subscribing
    if command.action == "subscribe":
        if subscribing is not None and not subscribing.done():
            subscribing.cancel()
        channels = set(command.channels or CHANNEL_NAMES)
        symbols = frozenset(s.strip().upper() for s in command.symbols or [] if s.strip())
        return asyncio.create_task(_subscribe(tape, client, channels, symbols, command.since_seq))
    if command.action == "unsubscribe":
        leaving = set(command.channels) if command.channels else None
        tape.unsubscribe(client, leaving)
        client.say(control("unsubscribed", channels=sorted(client.channels)))
        return subscribing
    if command.action == "ping":
        client.say(control("pong", seq=tape.position))
        return subscribing
    client.say(
        control(
            "error",
            detail=f"expected action subscribe, unsubscribe or ping, got {command.action!r}",
        )
    )
    return subscribing


async def _subscribe(
    tape: Tape, client: Client, channels: set[str], symbols: frozenset[str], since: int | None
) -> None:
    try:
        await tape.subscribe(client, channels, symbols, since)
    except TimeoutError:
        client.say(
            control(
                "error",
                detail="the live tape is not following DERIVED (NATS down or no stream yet); retry",
            )
        )
    except Exception as exc:
        client.say(control("error", detail=f"subscription failed: {exc}"))


async def _send(websocket: WebSocket, client: Client) -> None:
    while True:
        await websocket.send_text(await client.next())
