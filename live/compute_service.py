"""The live compute service: RAW in order -> the engine -> DERIVED, checkpointed in Redis.

One iteration:
1. take the next RAW messages after the checkpointed position and record them as the
   batch intent (Redis);
2. drop repeats at or below each source's high-water mark, restore canonical order with the
   reorder buffer, and step the kernel engine (`compute.flow.kernel_engine`) over what the
   buffer releases;
3. publish the outputs to DERIVED (acknowledged, one message per event type, content ids);
4. save the engine's delta (the rows the batch touched; a full snapshot at each UTC day and
   every `snapshot_every` batches), reorder buffer, position and high-water marks in one
   transaction, clearing the intent.
After a crash the service resumes from the checkpoint and first processes exactly the
intended batch again: the engine is pure, so the outputs and their messages are
byte-identical and JetStream's duplicate window drops the ones that had landed.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import groupby

import compute.flow as flow
from compute.flow.checkpoint import Checkpointer, restore
from compute.flow.kernel_engine import KernelEngine
from infra.bus import Bus, LogMessage, StreamReader
from infra.settings import Settings
from infra.state import Checkpoint, StateStore
from live.reorder import ReorderBuffer
from schemas.events import Event
from schemas.ordering import HighWater, admit
from schemas.subjects import RAW_STREAM, derived_subject

log = logging.getLogger(__name__)
_DAY_NS = 86_400 * 1_000_000_000


SNAPSHOT_EVERY = 600  # batches between full snapshots of the engine (deltas in between)


@dataclass
class ComputeMetrics:
    batches: int = 0
    raw_events: int = 0
    repeats_dropped: int = 0
    poison_messages: int = 0
    outputs: int = 0
    position: int = 0
    late_events: int = 0
    outputs_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))


class ComputeService:
    """Runs the engine over the RAW stream for one run id."""

    def __init__(
        self,
        bus: Bus,
        store: StateStore,
        config: flow.EngineConfig,
        *,
        allowed_lateness_ns: int,
        max_batch_messages: int = 64,
        snapshot_every: int = SNAPSHOT_EVERY,
    ) -> None:
        self.bus = bus
        self.store = store
        self.config = config
        self.run_id = store.run_id
        self.allowed_lateness_ns = allowed_lateness_ns
        self.max_batch_messages = max_batch_messages
        self.metrics = ComputeMetrics()
        self._stopping = asyncio.Event()
        self._carry: list[LogMessage] = []
        self._snapshot_day = -1
        self.snapshot_every = snapshot_every
        self._deltas = 0
        self._base: bytes | None = None  # a snapshot taken since the last checkpoint

    def stop(self) -> None:
        self._stopping.set()

    async def _restore(self) -> tuple[KernelEngine, ReorderBuffer, int, HighWater]:
        checkpoint = await self.store.load()
        saved = await self.store.load_engine()
        if checkpoint is None or saved is None:
            engine = KernelEngine.new(self.config, self.run_id)
            return engine, ReorderBuffer(self.allowed_lateness_ns), 0, {}
        snapshot, deltas = saved
        self._deltas = len(deltas)
        return (
            KernelEngine(restore(snapshot, deltas)),
            ReorderBuffer.restore(self.allowed_lateness_ns, checkpoint.state),
            checkpoint.position,
            checkpoint.high_water,
        )

    async def _next_batch(self, reader: StreamReader, through: int | None) -> list[LogMessage]:
        """The next messages: exactly up to `through` when replaying an intent."""
        messages, self._carry = self._carry, []
        while True:
            if through is None and messages:
                break
            if through is not None and messages and messages[-1].stream_seq >= through:
                break
            if self._stopping.is_set():
                return []
            wanted = self.max_batch_messages - len(messages) if through is None else 256
            messages.extend(await reader.fetch(max(1, wanted), timeout_s=0.5))
        if through is not None:
            cut = next(i for i, m in enumerate(messages) if m.stream_seq >= through) + 1
            messages, self._carry = messages[:cut], messages[cut:]
        return messages

    async def run(self, *, until_idle: bool = False, finish: bool = False) -> ComputeMetrics:
        """Process RAW until `stop()` (or, with `until_idle`, until RAW holds nothing new).

        With `finish`, reaching the end also ends the session: the reorder buffer is flushed
        and the engine closes every open packet and dark-pool window.
        """
        engine, reorder, position, high_water = await self._restore()
        saver = Checkpointer(engine.state)
        if position == 0:
            self._base = saver.snapshot()
        intent = await self.store.load_intent()
        reader = await self.bus.reader(RAW_STREAM, start_seq=position + 1)
        try:
            while not self._stopping.is_set():
                if until_idle and intent is None and not self._carry:
                    if await self.bus.last_sequence(RAW_STREAM) <= position:
                        if finish:
                            outputs = engine.step_events(reorder.flush(), finish=True)
                            self._touched(engine, saver)
                            await self._publish(outputs)
                            await self._checkpoint(saver, reorder, position, high_water)
                        break
                batch = await self._next_batch(reader, intent[1] if intent else None)
                if not batch:
                    continue
                if intent is None:
                    await self.store.save_intent(batch[0].stream_seq, batch[-1].stream_seq)
                intent = None
                released: list[Event] = []
                for message in batch:
                    if message.error is not None:
                        self.metrics.poison_messages += 1
                        log.warning("RAW %d is poison: %s", message.stream_seq, message.error)
                        continue
                    for event in message.events:
                        self.metrics.raw_events += 1
                        if not admit(high_water, event):
                            self.metrics.repeats_dropped += 1
                            continue
                        released.extend(reorder.push(event))
                outputs = await self._step_by_day(engine, saver, released)
                await self._publish(outputs)
                position = batch[-1].stream_seq
                await self._checkpoint(saver, reorder, position, high_water)
                self.metrics.batches += 1
                self.metrics.late_events = reorder.late
        finally:
            await reader.close()
        return self.metrics

    async def _step_by_day(
        self, engine: KernelEngine, saver: Checkpointer, events: list[Event]
    ) -> list[Event]:
        """Step the engine, saving its state at each new UTC day before its first event
        (splitting a batch never changes the output: the engine is batch-invariant)."""
        outputs: list[Event] = []
        for day, group in groupby(events, key=lambda e: e.ts_recv // _DAY_NS):
            if day > self._snapshot_day:
                date = dt.datetime.fromtimestamp(day * 86_400, dt.UTC).date().isoformat()
                self._base = saver.snapshot()
                await self.store.save_day_snapshot(date, self._base)
                self._snapshot_day = day
            outputs.extend(engine.step_events(list(group)))
            self._touched(engine, saver)
        return outputs

    @staticmethod
    def _touched(engine: KernelEngine, saver: Checkpointer) -> None:
        if engine.last is not None:
            saver.touched(engine.last)

    async def _checkpoint(
        self,
        saver: Checkpointer,
        reorder: ReorderBuffer,
        position: int,
        high_water: HighWater,
    ) -> None:
        """Position, reorder buffer and the engine's rows changed since the last checkpoint
        (on a snapshot taken since, or a fresh one every `snapshot_every` batches)."""
        if self._base is None and self._deltas >= self.snapshot_every:
            self._base = saver.snapshot()
        delta = saver.delta()
        checkpoint = Checkpoint(state=reorder.snapshot(), position=position, high_water=high_water)
        await self.store.save(checkpoint, snapshot=self._base, delta=delta)
        self._deltas = 1 if self._base is not None else self._deltas + 1
        self._base = None
        self.metrics.position = position

    async def _publish(self, outputs: list[Event]) -> None:
        by_type: dict[type[Event], list[Event]] = defaultdict(list)
        for event in outputs:
            by_type[type(event)].append(event)
        for event_type, group in by_type.items():
            await self.bus.publish(derived_subject(event_type), group, run_id=self.run_id)
            self.metrics.outputs += len(group)
            self.metrics.outputs_by_type[event_type.__name__] += len(group)


async def run_compute(
    nats_url: str,
    redis_url: str,
    settings: Settings,
    *,
    until_idle: bool,
    finish: bool,
    batch_messages: int,
) -> ComputeMetrics:
    bus = await Bus.connect(nats_url, name="flowtape-compute")
    store = StateStore.connect(redis_url, settings.run_id)
    try:
        await bus.ensure_streams(duplicate_window_s=settings.stream_duplicate_window_s)
        service = ComputeService(
            bus,
            store,
            flow.config_from_settings(settings.raw_environment(flow.SEED_NAMES)),
            allowed_lateness_ns=settings.allowed_lateness_ns,
            max_batch_messages=batch_messages,
        )
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, service.stop)
        return await service.run(until_idle=until_idle, finish=finish)
    finally:
        await store.close()
        await bus.close()
