"""The alpha frames of DERIVED, read once and handed to the paid stream's subscribers.

One reader follows `flow.drv.alpha_frame` from the stream's end (only that subject: no
other derived event and nothing of RAW can reach a paying subscriber). Each frame is
encoded once as `{"t": "frame", "seq": <DERIVED sequence>, "data": {...}}` and offered to
every subscriber of its root without waiting: a subscriber whose bounded queue is full
loses that frame, counted in its `dropped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict, deque
from dataclasses import dataclass, field

import msgspec
from nats.js.errors import NotFoundError

from api.services import Services
from api.views import plain
from infra.bus import StreamReader
from schemas.cme import AlphaFrame
from schemas.subjects import DERIVED_STREAM, derived_subject

log = logging.getLogger("flowtape.api.alpha_feed")

ALPHA_SUBJECT = derived_subject(AlphaFrame)
_encode = msgspec.json.Encoder().encode


@dataclass(eq=False)
class FrameQueue:
    """One subscriber's frames, oldest first, at most `size` waiting."""

    size: int
    dropped: int = 0
    _frames: deque[str] = field(default_factory=deque)
    _ready: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, text: str) -> None:
        if len(self._frames) >= self.size:
            self.dropped += 1
            return
        self._frames.append(text)
        self._ready.set()

    def wake(self) -> None:
        """End a waiting `next` early (the subscriber has something else to do)."""
        self._ready.set()

    async def next(self, timeout_s: float) -> str | None:
        """The next frame, or None when none came within `timeout_s`."""
        if not self._frames:
            self._ready.clear()
            # asyncio.timeout, not wait_for: wait_for wraps the wait in a task of its own (three
            # loop steps per subscriber woken instead of one, a new task every quiet tick),
            # which doubled the time a frame took to reach the last of 200 subscribers.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout_s):
                    await self._ready.wait()
        return self._frames.popleft() if self._frames else None


class AlphaFeed:
    """Follows the alpha frames on DERIVED and fans them out by root."""

    def __init__(self, services: Services, *, queue_size: int = 120) -> None:
        self.services = services
        self.queue_size = queue_size
        self.subscribers: dict[str, set[FrameQueue]] = defaultdict(set)
        self.ready = asyncio.Event()
        self.frames_read = 0
        self._position: int | None = None
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flowtape-alpha-feed")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def subscribe(self, root: str) -> FrameQueue:
        queue = FrameQueue(self.queue_size)
        self.subscribers[root].add(queue)
        return queue

    def unsubscribe(self, root: str, queue: FrameQueue) -> None:
        self.subscribers[root].discard(queue)

    async def _open(self) -> StreamReader:
        bus = await self.services.bus()
        try:
            last = await bus.last_sequence(DERIVED_STREAM)
        except NotFoundError:
            settings = self.services.settings
            await bus.ensure_streams(
                max_bytes=settings.stream_max_bytes,
                duplicate_window_s=settings.stream_duplicate_window_s,
            )
            last = await bus.last_sequence(DERIVED_STREAM)
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
        text = _encode({"t": "frame", "seq": seq, "data": plain(frame)}).decode()
        for queue in receivers:
            queue.offer(text)
