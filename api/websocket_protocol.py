"""The API's WebSocket protocol for uvicorn: uvicorn's own on the `websockets` sans-I/O core,
plus prebuilt frames for the paid alpha stream.

On `/ws/stream/…` the server negotiates no permessage-deflate and hands the app, as the
ASGI extension `FRAME_WRITER`, a `FrameWriter`: the alpha feed encodes a frame once into
the bytes of a whole WebSocket frame (`text_frame`) and writes those same bytes to every
subscriber, instead of each connection compressing and framing the same text again behind
an ASGI send. What such a connection may hold unsent is bounded: a kernel send buffer of
SEND_BUFFER_BYTES (Linux would otherwise grow it to megabytes: hours of stale frames) and
WRITE_BUFFER_HIGH in the transport, past which the writer refuses frames. Every other path
(the tape on /v1/ws) is served as uvicorn serves it, compressed only with API_WS_DEFLATE.
"""

from __future__ import annotations

import socket

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode
from websockets.http11 import Request

FRAME_WRITER = "flowtape.frame_writer"
PREBUILT_FRAME_PATHS = "/ws/stream/"
# About three minutes of 1 Hz frames of ~450 bytes in all (Linux doubles SO_SNDBUF).
SEND_BUFFER_BYTES = 32 * 1024
WRITE_BUFFER_HIGH = 16 * 1024


def text_frame(text: bytes) -> bytes:
    """The bytes of one unfragmented, unmasked, uncompressed text frame (server to client)."""
    return Frame(Opcode.TEXT, text).serialize(mask=False)


class FrameWriter:
    """Writes prebuilt frames straight to one connection's transport."""

    __slots__ = ("_protocol",)

    def __init__(self, protocol: WebSocketsSansIOProtocol) -> None:
        self._protocol = protocol

    def write(self, frame: bytes) -> bool:
        """Write `frame` (from `text_frame`) now. False, writing nothing, when the connection
        is closing or its peer reads too slowly: the transport holds more than its high-water
        mark unsent, so nothing more is buffered for it."""
        protocol = self._protocol
        if protocol.close_sent or protocol.transport.is_closing():
            return False
        if not protocol.writable.is_set():
            return False
        protocol.transport.write(frame)
        return True


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol; prebuilt frames on PREBUILT_FRAME_PATHS."""

    prebuilt = False

    def handle_connect(self, event: Request) -> None:
        # Compression per connection is what prebuilt frames avoid: a frame compressed once
        # could not be shared, as each connection's deflate context differs.
        self.prebuilt = event.path.startswith(PREBUILT_FRAME_PATHS)
        if self.prebuilt:
            self.conn.available_extensions = []
            sock = self.transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
            self.transport.set_write_buffer_limits(high=WRITE_BUFFER_HIGH)
        super().handle_connect(event)

    async def run_asgi(self) -> None:
        if self.prebuilt:
            self.scope["extensions"][FRAME_WRITER] = {"writer": FrameWriter(self)}
        await super().run_asgi()
