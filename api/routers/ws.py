"""`/v1/ws`: the live tape over WebSocket; the protocol is in api/tape.py."""

from __future__ import annotations

import asyncio
import contextlib

import msgspec
from fastapi import APIRouter, HTTPException, WebSocket, WebSocketDisconnect
from starlette import status

from api.auth import Authenticator, presented_key
from api.candle_feed import CHANNEL as CANDLES
from api.candle_feed import CandleFeed
from api.dependencies import TapeDep, get_auth
from api.responses import JSON
from api.tape import CHANNEL_NAMES, Client, Tape, control
from infra.keys import ApiKey

router = APIRouter()

FIRST_MESSAGE_TIMEOUT_S = 10.0


@router.websocket("/v1/ws")
async def live_tape(websocket: WebSocket, tape: TapeDep) -> None:
    """The live tape (scope `read`); protocol in api/tape.py."""
    auth = get_auth(websocket)
    if not auth.origin_allowed(websocket.headers.get("origin")):
        await _deny(websocket, HTTPException(403, "this page's origin may not open the tape"))
        return
    key = presented_key(websocket)
    record: ApiKey | None = None
    if key is not None or not auth.enabled:
        try:
            record = await asyncio.to_thread(auth.authorize, websocket, "read", key)
        except HTTPException as refused:
            await _deny(websocket, refused)
            return
        await websocket.accept()
    else:
        await websocket.accept()
        record = await _first_message_key(websocket, auth)
        if record is None:
            return
    inside = record is None or record.allows("admin")  # development mode or an admin key
    client = Client(tape.queue_size)
    candles: CandleFeed = websocket.app.state.candle_feed
    sender = asyncio.create_task(_send(websocket, client))
    replay: asyncio.Task[None] | None = None
    try:
        while True:
            text = await _receive_text(websocket, client)
            if text is None:
                continue
            if not await asyncio.to_thread(auth.still_valid, record):
                await _close(websocket, "the API key was revoked")
                break
            replay = await _command(tape, candles, client, text, replay, inside)
    except WebSocketDisconnect:
        pass
    finally:
        tape.remove(client)
        candles.remove(client)
        tasks = [sender, *([replay] if replay else [])]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


async def _deny(websocket: WebSocket, refused: HTTPException) -> None:
    """Refuse the handshake with an HTTP response (status, detail, Retry-After)."""
    await websocket.send_denial_response(
        JSON({"detail": refused.detail}, status_code=refused.status_code, headers=refused.headers)
    )


async def _close(websocket: WebSocket, detail: str) -> None:
    with contextlib.suppress(Exception):  # the client may be gone already
        await websocket.send_text(control("error", detail=detail))
        await websocket.close(status.WS_1008_POLICY_VIOLATION, reason=detail)


class _Auth(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    key: str


async def _first_message_key(websocket: WebSocket, auth: Authenticator) -> ApiKey | None:
    """The key of a `{"action": "auth", "key": ...}` first message; closes and returns None
    when it does not come or does not hold."""
    expected = 'expected a first message {"action": "auth", "key": "<API key>"}'
    try:
        message = await asyncio.wait_for(websocket.receive(), FIRST_MESSAGE_TIMEOUT_S)
    except TimeoutError:
        await _close(websocket, f"{expected} within {FIRST_MESSAGE_TIMEOUT_S:.0f} s")
        return None
    if message["type"] == "websocket.disconnect":
        return None
    try:
        command = msgspec.json.decode(message.get("text") or "", type=_Auth)
    except msgspec.DecodeError:
        command = None
    if command is None or command.action != "auth":
        await _close(websocket, expected)
        return None
    try:
        return await asyncio.to_thread(auth.authorize, websocket, "read", command.key)
    except HTTPException as refused:
        await _close(websocket, str(refused.detail))
        return None


async def _receive_text(websocket: WebSocket, client: Client) -> str | None:
    """The next text frame; a binary frame is answered with an error (and None)."""
    message = await websocket.receive()
    if message["type"] == "websocket.disconnect":
        raise WebSocketDisconnect(message.get("code", status.WS_1000_NORMAL_CLOSURE))
    text = message.get("text")
    if text is None:
        client.say(control("error", detail="binary frames are not read: send JSON text commands"))
    return text


class _Command(msgspec.Struct, forbid_unknown_fields=True):
    action: str
    channels: list[str] | None = None
    symbols: list[str] | None = None
    since_seq: int | None = None
    tf: str | None = None  # the candles channel's timeframe
    kind: str | None = None  # what the candles channel's symbols name


_command_decoder = msgspec.json.Decoder(_Command)


async def _command(
    tape: Tape,
    candles: CandleFeed,
    client: Client,
    text: str,
    replay: asyncio.Task[None] | None,
    futures_allowed: bool = False,
) -> asyncio.Task[None] | None:
    """Apply one client command before the next is read; returns the running replay, if any
    (a replay is the only part that runs on while later commands are applied)."""
    try:
        command = _command_decoder.decode(text)
    except msgspec.DecodeError as exc:
        client.say(
            control(
                "error", detail=f'expected a JSON command {{"action": "subscribe", ...}}: {exc}'
            )
        )
        return replay
    unknown = sorted(set(command.channels or []) - {*CHANNEL_NAMES, CANDLES})
    if unknown:
        client.say(
            control(
                "error",
                detail=f"unknown channels {unknown}; expected some of {[*CHANNEL_NAMES, CANDLES]}",
            )
        )
        return replay
    if command.action == "subscribe":
        if replay is not None:  # the new filter replaces the one being replayed
            replay.cancel()
            await asyncio.gather(replay, return_exceptions=True)
            tape.release(client)
        channels = set(command.channels or CHANNEL_NAMES)
        if CANDLES in channels:
            channels.discard(CANDLES)
            await candles.subscribe_command(
                client,
                command.symbols or [],
                command.tf,
                command.kind,
                futures_allowed=futures_allowed,
            )
            if not channels:
                tape.unsubscribe(client, None)
                return None
        else:
            candles.remove(client)
        symbols = frozenset(s.strip().upper() for s in command.symbols or [] if s.strip())
        return await _subscribe(tape, client, channels, symbols, command.since_seq)
    if command.action == "unsubscribe":
        leaving = set(command.channels) if command.channels else None
        if leaving is None or CANDLES in leaving:
            candles.remove(client)
        tape.unsubscribe(client, leaving)
        client.say(control("unsubscribed", channels=sorted(client.channels)))
        return replay
    if command.action == "ping":
        client.say(control("pong", seq=tape.position))
        return replay
    client.say(
        control(
            "error",
            detail=f"expected action subscribe, unsubscribe or ping, got {command.action!r}",
        )
    )
    return replay


async def _subscribe(
    tape: Tape, client: Client, channels: set[str], symbols: frozenset[str], since: int | None
) -> asyncio.Task[None] | None:
    try:
        upto = await tape.subscribe(client, channels, symbols, since)
    except TimeoutError:
        client.say(
            control(
                "error",
                detail="the live tape is not following DERIVED (NATS down or no stream yet); retry",
            )
        )
        return None
    if upto is None or since is None:
        return None
    return asyncio.create_task(_replay(tape, client, since, upto))


async def _replay(tape: Tape, client: Client, since: int, upto: int) -> None:
    try:
        await tape.replay(client, since, upto)
    except Exception as exc:
        client.say(control("error", detail=f"replay failed: {exc}"))


async def _send(websocket: WebSocket, client: Client) -> None:
    while True:
        await websocket.send_text(await client.next())
