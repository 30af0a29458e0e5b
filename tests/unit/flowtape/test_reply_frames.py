"""A daemon that answers with a frame that is not a reply: the client raises IpcError with
the code `malformed_frame`, never a MessagePack or Unicode error (a real Unix-socket server
plays the bad frames)."""

from __future__ import annotations

import shutil
import socket
import struct
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path

import msgspec
import pytest

from flowtape.client import MarketDataClient
from schemas.ipc import MALFORMED_FRAME, IpcError


def body_frame(body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + body


@pytest.fixture
def socket_folder() -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ftr", dir="/tmp"))  # noqa: S108  (short socket path)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def answering(path: Path, answer: bytes) -> threading.Thread:
    """A one-connection server at `path` that answers the first request with `answer`."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def serve() -> None:
        connection, _ = server.accept()
        with connection, server:
            connection.recv(65_536)
            connection.sendall(answer)
            connection.recv(1)  # until the client hangs up

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize(
    "body",
    [
        b"\x81\xa4kind",  # MessagePack cut short
        msgspec.msgpack.encode({"kind": "candles", "id": 1}),  # a reply missing its candles
        msgspec.msgpack.encode({"kind": "error", "id": 1, "code": "x", "message": "y"}).replace(
            b"\xa1y", b"\xa1\xff"
        ),  # a string that is not UTF-8
    ],
)
def test_a_frame_that_is_not_a_reply_raises_ipc_error_malformed_frame(
    socket_folder: Path, body: bytes
) -> None:
    path = socket_folder / "daemon.sock"
    server = answering(path, body_frame(body))
    with MarketDataClient(path, timeout_s=5.0) as client:
        with pytest.raises(IpcError) as raised:
            client.get_trades("databento", "AAPL", 5)
    server.join(5)
    assert raised.value.code == MALFORMED_FRAME
    assert "not a reply" in str(raised.value)
