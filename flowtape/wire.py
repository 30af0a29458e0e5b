"""What the sync and async clients share: the socket path, requests, replies, updates."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from schemas.ipc import (
    DEFAULT_MAX_FRAME_BYTES,
    MALFORMED_FRAME,
    AnyReply,
    CandleUpdate,
    ErrorReply,
    IpcError,
    OrderbookUpdate,
    Reply,
    Request,
    SubscribeCandles,
    SubscribeOrderbook,
    SubscribeTrades,
    TradeUpdate,
)

SOCKET_VARIABLE = "FLOWTAPE_DAEMON_SOCKET_PATH"
UPDATES = (CandleUpdate, OrderbookUpdate, TradeUpdate)
Update = CandleUpdate | OrderbookUpdate | TradeUpdate
SubscribeRequest = SubscribeCandles | SubscribeOrderbook | SubscribeTrades

replies = msgspec.msgpack.Decoder(AnyReply)


def decode_reply(body: bytes | bytearray) -> Reply:
    """One frame body from the daemon; `IpcError(malformed_frame)` when it is not a reply
    (not MessagePack, strings that are not UTF-8, or fields no reply has)."""
    try:
        return replies.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        raise IpcError(
            f"the daemon sent a frame that is not a reply: {exc}", code=MALFORMED_FRAME
        ) from exc


class ClientOptions:
    """Where both clients connect and how long they wait (`socket_path` None: the default);
    each client sets up its own connection state in `_init_state`."""

    def __init__(
        self,
        socket_path: str | Path | None = None,
        *,
        timeout_s: float = 5.0,
        reconnect_timeout_s: float = 30.0,
        max_frame_bytes: int = 64 * DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        self.socket_path = Path(socket_path) if socket_path else default_socket_path()
        self.timeout_s = timeout_s
        self.reconnect_timeout_s = reconnect_timeout_s
        self.max_frame_bytes = max_frame_bytes
        self._init_state()

    def _init_state(self) -> None:
        raise NotImplementedError


def default_socket_path() -> Path:
    """FLOWTAPE_DAEMON_SOCKET_PATH, else the daemon's default in FLOWTAPE_DATA_DIR."""
    named = os.environ.get(SOCKET_VARIABLE)
    if named:
        return Path(named)
    return Path(os.environ.get("FLOWTAPE_DATA_DIR", ".flowtape")) / "daemon.sock"


def checked(reply: Reply) -> Reply:
    """The reply, or the daemon's error raised as `IpcError` with its code."""
    if isinstance(reply, ErrorReply):
        raise IpcError(reply.message, code=reply.code)
    return reply


def with_id(request: Request, request_id: int) -> Request:
    return msgspec.structs.replace(request, id=request_id)
