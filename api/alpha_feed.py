"""The alpha frames of DERIVED, read once and written to the paid stream's subscribers.

One reader follows `flow.drv.alpha_frame` from the stream's end (only that subject: no
other derived event and nothing of RAW can reach a paying subscriber). Each frame is
encoded once, `{"t": "frame", "seq": <DERIVED sequence>, "data": {...}}` inside the bytes of
a WebSocket text frame, and the reader writes those bytes itself, without waiting, to every
subscriber of its root still paid at that moment (the clock read once per frame). A
subscriber whose socket is backed up (its peer reads too slowly, and the transport already
holds its high-water mark unsent) loses that frame, counted in its `dropped`: a slow
subscriber never holds up the others nor grows a buffer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import msgspec

from api.services import Services
from api.views import plain
from api.websocket_protocol import FrameWriter, text_frame
from infra.bus import StreamReader
from infra.tasks import cancel_and_wait
from schemas.cme import AlphaFrame
from schemas.subjects import DERIVED_STREAM, derived_subject

log = logging.getLogger("flowtape.api.alpha_feed")

ALPHA_SUBJECT = derived_subject(AlphaFrame)
_encode = msgspec.json.Encoder().encode


@dataclass(eq=False)
class Subscriber:
    """One paying connection: where its frames go and until when (clock seconds) it paid."""

    writer: FrameWriter
    paid_until: float
    sent: int = 0
    dropped: int = 0

    def deliver(self, frame: bytes, now: float) -> bool:
        """Write `frame` if paid at `now`; False when it was dropped (the socket backed up)."""
        if now >= self.paid_until:
            return True  # no free minute: the session is about to end the stream
        if self.writer.write(frame):
            self.sent += 1
            return True
        self.dropped += 1
        return False


class AlphaFeed:
    """Follows the alpha frames on DERIVED and writes them to the subscribers of their root."""

    def __init__(self, services: Services, clock: Callable[[], float]) -> None:
        self.services = services
        self.clock = clock
        self.subscribers: dict[str, set[Subscriber]] = defaultdict(set)
        self.ready = asyncio.Event()
        self.frames_read = 0
        self.dropped = 0
        self._position: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flowtape-alpha-feed")

    async def stop(self) -> None:
        await cancel_and_wait([self._task])

    def subscribe(self, root: str, writer: FrameWriter, paid_until: float) -> Subscriber:
        subscriber = Subscriber(writer, paid_until)
        self.subscribers[root].add(subscriber)
        return subscriber

    def unsubscribe(self, root: str, subscriber: Subscriber) -> None:
        self.subscribers[root].discard(subscriber)

    async def _open(self) -> StreamReader:
        bus = await self.services.bus()
        last = await bus.end_of(DERIVED_STREAM)
        if self._position is None or last < self._position:
            self._position = last  # first start, or a recreated stream: follow its end
        return await bus.reader(
            DERIVED_STREAM, start_seq=self._position + 1, filter_subject=ALPHA_SUBJECT
        )

    async def _run(self) -> None:
        reader: StreamReader | None = None
        try:
            while True:
                try:
                    if reader is None:
                        reader = await self._open()
                        self.ready.set()
                    messages = await reader.fetch(64, timeout_s=0.5)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.ready.clear()
                    log.warning("alpha feed: %s; reopening", str(exc) or type(exc).__name__)
                    reader = None
                    await asyncio.sleep(1.0)
                    continue
                for message in messages:
                    self._position = message.stream_seq
                    if message.error is not None:
                        continue
                    for event in message.events:
                        if isinstance(event, AlphaFrame):
                            self._dispatch(message.stream_seq, event)
        finally:
            if reader is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader.close(), 1.0)

    def _dispatch(self, seq: int, frame: AlphaFrame) -> None:
        self.frames_read += 1
        receivers = self.subscribers.get(frame.root)
        if not receivers:
            return
        data = text_frame(_encode({"t": "frame", "seq": seq, "data": plain(frame)}))
        now = self.clock()
        for subscriber in receivers:
            if not subscriber.deliver(data, now):
                self.dropped += 1
