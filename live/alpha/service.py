"""The alpha engine run live on the log.

Reads from RAW only what the engine reads (the CME subjects, MBP-10 depth and perpetuals'
mark prices), in stream order from its checkpointed position; drops repeats at or below
each source's high-water mark, restores the canonical order with the reorder buffer and
steps `compute.alpha` over what the buffer releases; publishes the frames to DERIVED
(acknowledged, content ids) and only then saves the engine state, reorder buffer, position
and high-water marks in one Redis transaction. A batch is recorded as the intent first, so
after a crash exactly that batch runs again and its frames are byte-identical messages the
stream's duplicate window drops. The same session replayed from its files gives the same
frames (tests/integration/live/alpha).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from dataclasses import dataclass, field

from compute.alpha import AlphaConfig, decode_state, encode_state, finish, initial_state, step
from infra.bus import Bus, LogMessage, StreamReader
from infra.state import Checkpoint, StateStore
from live.reorder import ReorderBuffer
from live.restore import restore_engine
from schemas.book import Mbp10Event
from schemas.cme import CME_RAW_EVENTS, AlphaFrame
from schemas.crypto import MarkPrice
from schemas.events import Event, event_tag
from schemas.ordering import HighWater, admit
from schemas.subjects import RAW_STREAM, derived_subject

# What the engine reads; every other RAW subject is left to the server's filter.
ALPHA_INPUTS: tuple[type[Event], ...] = (*CME_RAW_EVENTS, Mbp10Event, MarkPrice)
ALPHA_SUBJECTS: tuple[str, ...] = tuple(f"flow.raw.{event_tag(t)}.>" for t in ALPHA_INPUTS)
FRAME_SUBJECT = derived_subject(AlphaFrame)


@dataclass
class AlphaMetrics:
    """What the service has done, for `/health` and the command's summary."""

    batches: int = 0
    raw_events: int = 0
    repeats_dropped: int = 0
    poison_messages: int = 0
    frames: int = 0
    position: int = 0
    late_events: int = 0
    watermark_ns: int = -1  # the reorder buffer's, in event time
    reading: bool = False
    last_checkpoint_at: float | None = None  # wall clock, epoch seconds
    last_frames: dict[str, AlphaFrame] = field(default_factory=dict)  # by root
    failures: int = 0
    last_failure: str = ""

    def failed(self, message: str) -> None:
        self.failures += 1
        self.last_failure = message[:500]


class AlphaService:
    """Runs until `stop()`, or with `until_idle` until RAW holds nothing new for it.

    With a `store` every batch is checkpointed and `stop()` keeps the session open for the
    next run; `finish` (with `until_idle`) ends the session at the end of the input: the
    reorder buffer is flushed and the engine's `finish` emits the frames at the next
    boundary, as a replay of the same session does.
    """

    def __init__(
        self,
        bus: Bus,
        config: AlphaConfig,
        *,
        run_id: str = "live",
        allowed_lateness_ns: int = 2_000_000_000,
        store: StateStore | None = None,
        max_batch_messages: int = 64,
    ) -> None:
        self.bus = bus
        self.store = store
        self.run_id = run_id
        self.allowed_lateness_ns = allowed_lateness_ns
        self.max_batch_messages = max_batch_messages
        self.state = initial_state(config, run_id)
        self.reorder = ReorderBuffer(allowed_lateness_ns)
        self.high_water: HighWater = {}
        self.metrics = AlphaMetrics()
        self._carry: list[LogMessage] = []  # read past an intent's end: the next batch's
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    async def run(self, *, until_idle: bool = False, finish_session: bool = False) -> AlphaMetrics:
        intent = await self._restore()
        reader = await self.bus.reader(
            RAW_STREAM, start_seq=self.metrics.position + 1, filter_subjects=ALPHA_SUBJECTS
        )
        self.metrics.reading = True
        try:
            while not self._stopping.is_set():
                through = intent[1] if intent else None
                last_seq = await self.bus.last_sequence(RAW_STREAM) if until_idle else 0
                messages = await self._next_batch(reader, through)
                if not messages:
                    if until_idle and not self._carry and await self._idle(last_seq):
                        if finish_session:
                            await self._finish()
                        break
                    continue
                if intent is None and self.store is not None:
                    await self.store.save_intent(messages[0].stream_seq, messages[-1].stream_seq)
                intent = None
                frames = step(self.state, self._released(messages))[1]
                await self._publish(frames)
                self.metrics.position = messages[-1].stream_seq
                await self._checkpoint()
                self.metrics.batches += 1
        except Exception as exc:
            self.metrics.failed(f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.metrics.reading = False
            with contextlib.suppress(Exception):
                await reader.close()
        return self.metrics

    async def _idle(self, last_seq: int) -> bool:
        """Nothing came in a whole pull begun when RAW ended at `last_seq`: every message
        of ours up to there has been read (the server delivers what its filter holds)."""
        return await self.bus.last_sequence(RAW_STREAM) == last_seq

    def _released(self, messages: list[LogMessage]) -> list[Event]:
        released: list[Event] = []
        for message in messages:
            if message.error is not None:
                self.metrics.poison_messages += 1
                self.metrics.failed(f"RAW {message.stream_seq} is poison: {message.error}")
                continue
            for event in message.events:
                self.metrics.raw_events += 1
                if not admit(self.high_water, event):
                    self.metrics.repeats_dropped += 1
                    continue
                released.extend(self.reorder.push(event))
        self.metrics.late_events = self.reorder.late
        self.metrics.watermark_ns = self.reorder.watermark
        return released

    async def _finish(self) -> None:
        frames = step(self.state, self.reorder.flush())[1] + finish(self.state)[1]
        await self._publish(frames)
        await self._checkpoint()

    async def _restore(self) -> tuple[int, int] | None:
        """The checkpointed engine, buffer, position and marks; the unfinished batch."""
        if self.store is None:
            return None
        restored = await restore_engine(
            self.store, decode_state, config=self.state.config, what="alpha",
            allowed_lateness_ns=self.allowed_lateness_ns, run_id=self.run_id,
        )  # fmt: skip
        if restored is not None:
            self.state, self.reorder = restored.state, restored.reorder
            self.metrics.position = restored.checkpoint.position
            self.high_water = restored.checkpoint.high_water
        return await self.store.load_intent()

    async def _next_batch(self, reader: StreamReader, through: int | None) -> list[LogMessage]:
        """The next messages ([] when a pull brought none); when running an intent again,
        exactly those up to `through` (what is read beyond it waits for the next batch)."""
        messages, self._carry = self._carry, []
        if through is None:
            if messages:
                return messages
            return await reader.fetch(self.max_batch_messages, timeout_s=0.5)
        while not (messages and messages[-1].stream_seq >= through):
            if self._stopping.is_set():
                return []
            messages.extend(await reader.fetch(256, timeout_s=0.5))
        cut = next(i for i, m in enumerate(messages) if m.stream_seq >= through) + 1
        messages, self._carry = messages[:cut], messages[cut:]
        return messages

    async def _checkpoint(self) -> None:
        if self.store is None:
            return
        checkpoint = Checkpoint(
            state=self.reorder.snapshot(),
            position=self.metrics.position,
            high_water=self.high_water,
        )
        await self.store.save(checkpoint, snapshot=encode_state(self.state))
        self.metrics.last_checkpoint_at = time.time()

    async def _publish(self, frames: list[Event]) -> None:
        """Frames to DERIVED in one acknowledged message (a content id: a resent message is
        stored once)."""
        if not frames:
            return
        await self.bus.publish(FRAME_SUBJECT, frames, run_id=self.run_id)
        self.metrics.frames += len(frames)
        for frame in frames:
            if isinstance(frame, AlphaFrame):
                self.metrics.last_frames[frame.root] = frame
