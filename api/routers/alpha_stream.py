"""The paid alpha stream: `GET /skills`, `GET /mpp/session`, `WS /ws/stream/{symbol}`.

Payment is these routes' only key (no API key): `/mpp/session` without a `Payment`
credential answers 402 with a challenge; with an accepted one, 200
`{ok, symbol, token, expiresAt, minutes}` and a `Payment-Receipt` header. The WebSocket
takes the stream token as `?token=` or `Authorization: Bearer`, then the message
`{"t": "subscribe", "symbols": ["CL"]}`; it sends `{"t": "subscribed"}`, the frames
(`{"t": "frame", "seq", "data"}`), `{"t": "payment-need-voucher", "expiresAt"}`
MPP_VOUCHER_LEAD_S before the paid time ends, and at the end `{"t": "payment-expired"}`
and a close (1008). The client pays another voucher at `/mpp/session` and sends
`{"t": "authorization", "token": "…"}`, answered by `{"t": "authorized", "expiresAt"}`.
A connection that reads too slowly loses frames rather than holding up the others, and is
told how many: `{"t": "dropped", "dropped", "droppedTotal", "reason"}`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import redis.asyncio as redis
from fastapi import APIRouter, Query, Request, WebSocket, WebSocketDisconnect
from starlette import status

from api.alpha_feed import Subscriber
from api.alpha_stream import AlphaStream
from api.error_responses import ErrorBody
from api.responses import JSON
from api.websocket_protocol import FRAME_WRITER, FrameWriter
from payments.errors import PaymentRefused, PaymentUnavailable
from payments.gateway import PaymentGateway
from payments.tokens import StreamGrant

router = APIRouter(tags=["alpha stream (paid)"])


def _documented(statuses: dict[int, str]) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=`: each status with its meaning here and the `{detail, code}` body."""
    schema = ErrorBody.model_json_schema()
    return {
        status: {"description": meaning, "content": {"application/json": {"schema": schema}}}
        for status, meaning in statuses.items()
    }


UNAVAILABLE = {503: "The alpha stream is not configured (MPP_*), or its chain or Redis is down."}
SESSION_RESPONSES = _documented(
    {
        402: "Payment required: the body and `WWW-Authenticate` carry a fresh challenge; a"
        " refused credential says why in `code`.",
        403: "The channel pays for another symbol.",
        404: "The symbol is not sold here.",
        422: "No symbol, or one longer than 16 characters.",
        **UNAVAILABLE,
    }
)

FIRST_MESSAGE_TIMEOUT_S = 10.0
TICK_S = 0.25  # how often a session looks at the clock (reminder, expiry, drops)
_BEARER = "bearer "


def _stream(connection: Request | WebSocket) -> AlphaStream:
    stream: AlphaStream = connection.app.state.alpha
    return stream


def _refusal(refused: PaymentRefused, gateway: PaymentGateway, symbol: str) -> JSON:
    body = {"detail": str(refused), "code": refused.code}
    if refused.status != 402:
        return JSON(body, status_code=refused.status)
    try:
        challenge = gateway.challenge(symbol)
    except PaymentRefused as unknown:
        return JSON({"detail": str(unknown), "code": unknown.code}, status_code=unknown.status)
    return JSON(
        body | {"challenge": challenge.as_json()},
        status_code=402,
        headers={"WWW-Authenticate": challenge.header()},
    )


@router.get("/skills", responses=_documented(UNAVAILABLE))
def skills(request: Request) -> JSON:
    """What the alpha stream sells: symbols, price per minute, network, payment method."""
    return JSON(_stream(request).require().catalog())


@router.get("/mpp/session", responses=SESSION_RESPONSES)
async def mpp_session(request: Request, symbol: str = Query(..., max_length=16)) -> JSON:
    """A 402 challenge, or a stream token for an accepted `Authorization: Payment` credential."""
    gateway = _stream(request).require()
    authorization = request.headers.get("authorization", "")
    try:
        if not authorization.lower().startswith("payment "):
            raise PaymentRefused("payment required", code="payment_required")
        receipt = await gateway.redeem(symbol, authorization)
    except PaymentRefused as refused:
        return _refusal(refused, gateway, symbol)
    except (PaymentUnavailable, OSError, redis.RedisError) as exc:
        detail = str(exc) or type(exc).__name__
        return JSON({"detail": f"payment unavailable: {detail}", "code": "unavailable"}, 503)
    return JSON(receipt.as_json(), headers={"Payment-Receipt": receipt.header()})


def _presented_token(websocket: WebSocket) -> str:
    authorization = websocket.headers.get("authorization", "")
    if authorization[: len(_BEARER)].lower() == _BEARER:
        return authorization[len(_BEARER) :].strip()
    return websocket.query_params.get("token", "")


async def _deny(websocket: WebSocket, status_code: int, detail: str, code: str) -> None:
    await websocket.send_denial_response(
        JSON({"detail": detail, "code": code}, status_code=status_code)
    )


@router.websocket("/ws/stream/{symbol}")
async def alpha_stream(websocket: WebSocket, symbol: str) -> None:
    """The paid frames of one root (protocol in this module's docstring)."""
    stream = _stream(websocket)
    if stream.gateway is None:
        await _deny(websocket, 503, f"the alpha stream is not available: {stream.reason}",
                    "unavailable")  # fmt: skip
        return
    writer = websocket.scope.get("extensions", {}).get(FRAME_WRITER, {}).get("writer")
    if writer is None:
        await _deny(websocket, 503, "the alpha stream needs the API's WebSocket protocol"
                    " (uvicorn ws=api.app.WS_PROTOCOL)", "unavailable")  # fmt: skip
        return
    token = _presented_token(websocket)
    try:
        if not token:
            raise PaymentRefused(
                "a stream token is required: pay at /mpp/session", code="token_missing", status=401
            )
        grant = stream.gateway.verify_token(token, symbol)
    except PaymentRefused as refused:
        await _deny(websocket, refused.status, str(refused), refused.code)
        return
    await websocket.accept()
    session = _Session(websocket, stream, symbol, grant)
    with contextlib.suppress(WebSocketDisconnect):
        await session.run(writer)


class _Session:
    """One subscriber's connection: the feed writes its frames while paid; the session sends
    the replies, the payment reminder, drop counts and the end."""

    def __init__(
        self, websocket: WebSocket, stream: AlphaStream, symbol: str, grant: StreamGrant
    ) -> None:
        self.websocket = websocket
        self.stream = stream
        self.gateway = stream.require()
        self.symbol = symbol
        self.grant = grant
        self.asked = False
        self.control: list[dict[str, Any]] = []
        self.gone = False
        self.wake = asyncio.Event()
        self.subscriber: Subscriber | None = None
        self.dropped_reported = 0

    async def send(self, message: dict[str, Any]) -> None:
        await self.websocket.send_text(json.dumps(message))

    async def run(self, writer: FrameWriter) -> None:
        if not await self._subscribed():
            return
        await self.send({"t": "subscribed", "symbol": self.symbol,
                         "expiresAt": self.grant.expires_s})  # fmt: skip
        feed = self.stream.feed
        self.subscriber = feed.subscribe(self.symbol, writer, self.grant.expires_s)
        receiver = asyncio.create_task(self._receive())
        try:
            await self._serve(self.subscriber)
        finally:
            feed.unsubscribe(self.symbol, self.subscriber)
            receiver.cancel()
            await asyncio.gather(receiver, return_exceptions=True)

    async def _subscribed(self) -> bool:
        expected = f'expected {{"t": "subscribe", "symbols": ["{self.symbol}"]}}'
        try:
            text = await asyncio.wait_for(self.websocket.receive_text(), FIRST_MESSAGE_TIMEOUT_S)
            message = json.loads(text)
        except (TimeoutError, json.JSONDecodeError, KeyError):
            await self._close("malformed", expected)
            return False
        if not isinstance(message, dict) or message.get("t") != "subscribe":
            await self._close("malformed", expected)
            return False
        if message.get("symbols") != [self.symbol]:
            await self._close(
                "token_symbol",
                f"the stream token is for {self.symbol} only, not {message.get('symbols')!r:.60}",
            )
            return False
        return True

    async def _serve(self, subscriber: Subscriber) -> None:
        lead_s = self.gateway.config.voucher_lead_s
        while not self.gone:
            while self.control:
                await self.send(self.control.pop(0))
            now = self.gateway.clock()
            if now >= self.grant.expires_s:
                self.stream.feed.unsubscribe(self.symbol, subscriber)
                await self.send({"t": "payment-expired", "expiredAt": self.grant.expires_s})
                await self.websocket.close(status.WS_1008_POLICY_VIOLATION, "payment required")
                return
            if not self.asked and now >= self.grant.expires_s - lead_s:
                self.asked = True
                await self.send({"t": "payment-need-voucher", "expiresAt": self.grant.expires_s})
            if subscriber.dropped > self.dropped_reported:
                await self._report_drops(subscriber.dropped)
            if not self.control and not self.gone:
                self.wake.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(TICK_S):
                        await self.wake.wait()

    async def _report_drops(self, total: int) -> None:
        # Sent once the socket takes data again, after the frames it held.
        lost, self.dropped_reported = total - self.dropped_reported, total
        await self.send({"t": "dropped", "dropped": lost, "droppedTotal": total,
                         "reason": "the connection read too slowly"})  # fmt: skip

    async def _receive(self) -> None:
        try:
            while True:
                text = await self.websocket.receive_text()
                self.control.append(self._command(text))
                self.wake.set()
        except (WebSocketDisconnect, RuntimeError):
            self.gone = True
            self.wake.set()

    def _command(self, text: str) -> dict[str, Any]:
        try:
            message = json.loads(text)
        except json.JSONDecodeError:
            message = None
        if not isinstance(message, dict) or message.get("t") != "authorization":
            expected = 'expected {"t": "authorization", "token": "<stream token>"}'
            return {"t": "error", "code": "malformed", "detail": expected}
        try:
            grant = self.gateway.verify_token(str(message.get("token", "")), self.symbol)
        except PaymentRefused as refused:
            return {"t": "error", "code": refused.code, "detail": str(refused)}
        if grant.expires_s > self.grant.expires_s:
            self.grant, self.asked = grant, False
            if self.subscriber is not None:
                self.subscriber.paid_until = grant.expires_s
        return {"t": "authorized", "expiresAt": self.grant.expires_s}

    async def _close(self, code: str, detail: str) -> None:
        with contextlib.suppress(Exception):
            await self.send({"t": "error", "code": code, "detail": detail})
            await self.websocket.close(status.WS_1008_POLICY_VIOLATION, detail[:120])
