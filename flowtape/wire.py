"""What the sync and async clients share: the socket path, requests, replies, updates."""

from __future__ import annotations

import os
from pathlib import Path

import msgspec

from schemas.ipc import (
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
