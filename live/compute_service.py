"""The live compute service: RAW in order -> the engine -> DERIVED, checkpointed in Redis.

One iteration:
1. take the next RAW messages after the last batch and journal their range as a batch
   intent (Redis);
2. drop repeats at or below each source's high-water mark, restore canonical order with the
   reorder buffer, and step the kernel engine (`compute.flow.kernel_engine`) over what the
   buffer releases;
3. publish the outputs to DERIVED (acknowledged, one message per event type, content ids);
4. at most every `checkpoint_every_s`: save the engine's delta (the rows the batches since
   the last checkpoint touched; a full snapshot at each UTC day, every `snapshot_every`
   checkpoints, and once the deltas saved since the last snapshot weigh as much as it, so
   Redis never holds more than about twice the state), reorder buffer, position and
   high-water marks in one transaction, clearing the journal.
After a crash the service resumes from the checkpoint and first processes exactly the
journaled batches again, each with its own messages. Each batch but the last was published in
full before the next was journaled: only the last one's outputs are published again, and as
the engine is pure its messages are byte-identical and JetStream's duplicate window drops the
ones that had landed. A checkpoint per batch cost a quarter of the service's CPU at 3,000
prints/s; a journal entry is a few bytes.
While Redis is unreachable every call to it is retried with backoff: the service holds its
place (nothing moves past a batch it could not journal) and says so in its metrics (`/health`:
live.compute_health).
Partitioned (`live.partitions`): a service runs one logical partition, reading only that
partition's RAW subjects and the broadcast ones, with the partition's own checkpoint; a
worker runs a service per partition it owns, and DERIVED receives every partition's outputs
on the usual subjects.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import signal
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from itertools import groupby
from typing import TypeVar

import nats.errors
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

import compute.flow as flow
from compute.flow.checkpoint import Checkpointer, restore
from compute.flow.kernel_engine import KernelEngine
from infra.bus import Bus, LogMessage, StreamReader
from infra.health import health_served
from infra.settings import DAY_SNAPSHOTS_KEPT, Settings
from infra.state import Checkpoint, StateStore
from infra.tasks import cancel_and_wait
from live.compute_health import DEFAULT_MAX_LAG_MESSAGES, ComputeHealth
from live.partitions import Partition, check_partition_count
from live.reorder import ReorderBuffer
from live.worker_health import WorkerHealth
from schemas.events import RAW_EVENTS, Event
from schemas.ordering import HighWater, admit, canonical_key
from schemas.subjects import RAW_STREAM, derived_subject

log = logging.getLogger(__name__)
_DAY_NS = 86_400 * 1_000_000_000
T = TypeVar("T")


_Restored = tuple[KernelEngine, ReorderBuffer, int, HighWater, list[tuple[int, int]]]

SNAPSHOT_EVERY = 600  # checkpoints between full snapshots of the engine (deltas in between)
CHECKPOINT_EVERY_S = 0.5  # the least time between checkpoints (batches between: journaled)
FETCH_WAIT_S = 0.5  # the longest wait for RAW before a due checkpoint is taken
REDIS_BACKOFF_S = (0.2, 5.0)  # first and longest wait between attempts while Redis is away
LOG_LOOK_EVERY_S = 1.0  # how often the RAW stream's last sequence is read (for the lag)


@dataclass
class ComputeMetrics:
    batches: int = 0
    raw_events: int = 0
    repeats_dropped: int = 0
    other_events: int = 0  # raw events of other systems, left to their services
    poison_messages: int = 0
    outputs: int = 0
    position: int = 0
    late_events: int = 0
    outputs_by_type: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    reading: bool = False  # restored and reading RAW
    watermark_ns: int = -1  # the reorder buffer's, in event time
    raw_last_seq: int = 0  # RAW's last sequence when last looked at
    last_checkpoint_at: float | None = None  # wall clock, epoch seconds
    waiting_for_redis: bool = False
    failures: int = 0  # Redis calls that failed, poison messages, failed looks at RAW
    last_failure: str = ""

    def failed(self, message: str) -> None:
        self.failures += 1
        self.last_failure = message


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
        checkpoint_every_s: float = CHECKPOINT_EVERY_S,
        day_snapshots_kept: int = DAY_SNAPSHOTS_KEPT,
        partition: Partition | None = None,
    ) -> None:
        self.bus = bus
        self.partition = partition
        # stable across restarts and moves: the sink holds singles per producer
        self.producer = "compute" if partition is None else f"compute/{partition.label}"
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
        self.checkpoint_every_s = checkpoint_every_s
        self.day_snapshots_kept = day_snapshots_kept
        self._deltas = 0
        self._delta_bytes = 0  # of the deltas stored after the stored snapshot
        self._snapshot_bytes = 0  # of the stored snapshot
        self._base: bytes | None = None  # a snapshot taken since the last checkpoint

    def stop(self) -> None:
        self._stopping.set()

    async def _stored(self, call: Callable[[], Awaitable[T]], what: str) -> tuple[T] | None:
        """`call()` against Redis, tried again with backoff while Redis is unreachable: its
        result (in a 1-tuple), or None when the service is stopped first."""
        wait, longest = REDIS_BACKOFF_S
        while True:
            try:
                result = await call()
            except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
                self.metrics.waiting_for_redis = True
                self.metrics.failed(f"redis unreachable ({what}): {exc}"[:300])
                log.warning("redis unreachable (%s): %s; retrying in %.1fs", what, exc, wait)
                try:
                    await asyncio.wait_for(self._stopping.wait(), wait)
                except TimeoutError:
                    wait = min(wait * 2, longest)
                    continue
                return None
            self.metrics.waiting_for_redis = False
            return (result,)

    async def _log_end(self) -> int:
        """The sequence of RAW's last message that this service reads."""
        if self.partition is None:
            return await self.bus.last_sequence(RAW_STREAM)
        return await self.bus.last_sequence_of(RAW_STREAM, self.partition.filters)

    async def _look_at_log(self) -> None:
        """RAW's last sequence into `metrics.raw_last_seq` (the lag is visible while stalled)."""
        try:
            self.metrics.raw_last_seq = await self._log_end()
        except (nats.errors.Error, TimeoutError) as exc:
            self.metrics.failed(f"RAW's last sequence unknown: {exc!r}"[:300])

    async def _keep_looking_at_log(self) -> None:
        while True:
            await asyncio.sleep(LOG_LOOK_EVERY_S)
            await self._look_at_log()

    async def _restore(self) -> _Restored | None:
        """Engine, reorder buffer, position, high-water marks and the journaled batches;
        None when stopped while Redis was away."""
        loaded = await self._stored(self._load, "restore")
        if loaded is None:
            return None
        checkpoint, saved, journal = loaded[0]
        if checkpoint is None or saved is None:
            engine = KernelEngine.new(self.config, self.run_id)
            return engine, ReorderBuffer(self.allowed_lateness_ns), 0, {}, journal
        snapshot, deltas = saved
        self._deltas = len(deltas)
        self._delta_bytes = sum(map(len, deltas))
        self._snapshot_bytes = len(snapshot)
        return (
            KernelEngine(restore(snapshot, deltas)),
            ReorderBuffer.restore(self.allowed_lateness_ns, checkpoint.state),
            checkpoint.position,
            checkpoint.high_water,
            journal,
        )

    async def _load(
        self,
    ) -> tuple[Checkpoint | None, tuple[bytes, list[bytes]] | None, list[tuple[int, int]]]:
        store = self.store
        count = 1 if self.partition is None else self.partition.count
        await check_partition_count(store.client, self.run_id, count)
        return await store.load(), await store.load_engine(), await store.load_intents()

    async def _next_batch(self, reader: StreamReader, through: int | None) -> list[LogMessage]:
        """The next messages, none when a wait of `FETCH_WAIT_S` brought none; exactly those
        up to `through` when processing a batch again."""
        messages, self._carry = self._carry, []
        if through is None:
            if not messages and not self._stopping.is_set():
                messages = await reader.fetch(self.max_batch_messages, timeout_s=FETCH_WAIT_S)
            return messages
        while not messages or messages[-1].stream_seq < through:
            if self._stopping.is_set():
                return []
            messages.extend(await reader.fetch(256, timeout_s=FETCH_WAIT_S))
        cut = next(i for i, m in enumerate(messages) if m.stream_seq >= through) + 1
        messages, self._carry = messages[:cut], messages[cut:]
        return messages

    async def run(self, *, until_idle: bool = False, finish: bool = False) -> ComputeMetrics:
        """Process RAW until `stop()` (or, with `until_idle`, until RAW holds nothing new).

        With `finish`, reaching the end also ends the session: the reorder buffer is flushed
        and the engine closes every open packet and dark-pool window.
        """
        restored = await self._restore()
        if restored is None:
            return self.metrics
        engine, reorder, position, high_water, journal = restored
        saver = Checkpointer(engine.state)
        if position == 0:
            self._base = saver.snapshot()
        filters = () if self.partition is None else self.partition.filters
        reader = await self.bus.reader(RAW_STREAM, start_seq=position + 1, filter_subjects=filters)
        self.metrics.position = position
        await self._look_at_log()  # a lag figure before the first report of `reading`
        self.metrics.reading = True
        looking = asyncio.create_task(self._keep_looking_at_log())
        unsaved = False  # batches done since the checkpoint
        checkpointed_at = time.monotonic()
        try:
            while not self._stopping.is_set():
                # a journal being redone stays whole until its last batch is done again
                if unsaved and not journal and self._checkpoint_due(checkpointed_at):
                    unsaved = False
                    if not await self._checkpoint(saver, reorder, position, high_water):
                        break
                    checkpointed_at = time.monotonic()
                if until_idle and not journal and not self._carry:
                    if await self._log_end() <= position:
                        if finish:
                            outputs = engine.step_events(reorder.flush(), finish=True)
                            self._touched(engine, saver)
                            await self._publish(outputs)
                            unsaved = True
                        break
                redo = journal[0] if journal else None
                batch = await self._next_batch(reader, redo[1] if redo else None)
                if not batch:
                    continue
                # Every journaled batch but the last was published in full before the next one
                # was journaled: redone, its outputs are on DERIVED already.
                publish = redo is None or len(journal) == 1
                if redo is not None:
                    journal.pop(0)
                else:
                    first, last = batch[0].stream_seq, batch[-1].stream_seq
                    saved = await self._stored(
                        partial(self.store.save_intent, first, last), "intent"
                    )
                    if saved is None:
                        break
                released = self._admitted(batch, high_water, reorder)
                stepped = await self._step_by_day(engine, saver, released)
                if stepped is None:  # stopped while Redis was away: the journal redoes it
                    unsaved = False
                    break
                if publish:
                    await self._publish(stepped)
                position = batch[-1].stream_seq
                unsaved = True
                self.metrics.position = position
                self.metrics.batches += 1
                self.metrics.late_events = reorder.late
                self.metrics.watermark_ns = reorder.watermark
            if unsaved and not journal:  # the batches done before stopping (Redis allowing)
                await self._checkpoint(saver, reorder, position, high_water)
        finally:
            self.metrics.reading = False
            await cancel_and_wait([looking])
            await reader.close()
        return self.metrics

    def _checkpoint_due(self, checkpointed_at: float) -> bool:
        return time.monotonic() - checkpointed_at >= self.checkpoint_every_s

    def _admitted(
        self, batch: list[LogMessage], high_water: HighWater, reorder: ReorderBuffer
    ) -> list[Event]:
        """The batch's flow events past the high-water marks, as the reorder buffer
        releases them."""
        released: list[Event] = []
        for message in batch:
            if message.error is not None:
                self.metrics.poison_messages += 1
                self.metrics.failed(f"RAW {message.stream_seq} is poison: {message.error}")
                log.warning("RAW %d is poison: %s", message.stream_seq, message.error)
                continue
            for event in message.events:
                self.metrics.raw_events += 1
                if type(event) not in RAW_EVENTS:
                    # other systems' events (CME, books, crypto): their services read them
                    self.metrics.other_events += 1
                    continue
                key = canonical_key(event)  # (encodes the event: once for both)
                if not admit(high_water, event, key):
                    self.metrics.repeats_dropped += 1
                    continue
                released.extend(reorder.push(event, key))
        return released

    async def _step_by_day(
        self, engine: KernelEngine, saver: Checkpointer, events: list[Event]
    ) -> list[Event] | None:
        """Step the engine, saving its state at each new UTC day before its first event
        (splitting a batch never changes the output: the engine is batch-invariant); None
        when stopped while Redis was away."""
        outputs: list[Event] = []
        for day, group in groupby(events, key=lambda e: e.ts_recv // _DAY_NS):
            if day > self._snapshot_day:
                date = dt.datetime.fromtimestamp(day * 86_400, dt.UTC).date().isoformat()
                base = self._base = saver.snapshot()
                saved = await self._stored(
                    partial(self.store.save_day_snapshot, date, base, keep=self.day_snapshots_kept),
                    "day snapshot",
                )
                if saved is None:
                    return None
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
    ) -> bool:
        """Position, reorder buffer and the engine's rows changed since the last checkpoint
        (on a snapshot taken since, or a fresh one every `snapshot_every` batches or once the
        deltas outweigh the snapshot); False when stopped while Redis was away."""
        if self._base is None and (
            self._deltas >= self.snapshot_every or self._delta_bytes >= self._snapshot_bytes
        ):
            self._base = saver.snapshot()
        delta, base = saver.delta(), self._base
        checkpoint = Checkpoint(state=reorder.snapshot(), position=position, high_water=high_water)
        saved = await self._stored(
            partial(self.store.save, checkpoint, snapshot=base, delta=delta), "checkpoint"
        )
        if saved is None:
            return False
        if self._base is not None:
            self._deltas, self._delta_bytes = 1, len(delta)
            self._snapshot_bytes = len(self._base)
        else:
            self._deltas += 1
            self._delta_bytes += len(delta)
        self._base = None
        self.metrics.last_checkpoint_at = time.time()
        return True

    async def _publish(self, outputs: list[Event]) -> None:
        by_type: dict[type[Event], list[Event]] = defaultdict(list)
        for event in outputs:
            by_type[type(event)].append(event)
        for event_type, group in by_type.items():
            await self.bus.publish(
                derived_subject(event_type), group, run_id=self.run_id, producer=self.producer
            )
            self.metrics.outputs += len(group)
            self.metrics.outputs_by_type[event_type.__name__] += len(group)


async def run_partitions(
    services: Sequence[ComputeService], *, until_idle: bool, finish: bool
) -> list[ComputeMetrics]:
    """Run the services side by side; a failure in one stops the others (its error is
    raised once they have stopped)."""
    tasks = [
        asyncio.create_task(service.run(until_idle=until_idle, finish=finish))
        for service in services
    ]
    await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    for service in services:
        service.stop()
    return list(await asyncio.gather(*tasks))


async def run_compute(
    nats_url: str,
    redis_url: str,
    settings: Settings,
    *,
    until_idle: bool,
    finish: bool,
    batch_messages: int,
    health_port: int | None = None,
    max_lag_messages: int = DEFAULT_MAX_LAG_MESSAGES,
    partitions: Sequence[Partition] = (),
) -> list[ComputeMetrics]:
    """The compute service until SIGINT/SIGTERM (or idle), serving `/health` on
    127.0.0.1:`health_port` when given (degraded beyond `max_lag_messages` behind RAW);
    with `partitions`, one service per partition, each with its own checkpoint."""
    bus = await Bus.connect(nats_url, name="flowtape-compute")
    owned: list[Partition | None] = [*partitions] or [None]
    stores = [
        StateStore.connect(redis_url, settings.run_id, partition=p.label if p else "")
        for p in owned
    ]
    try:
        await bus.ensure_streams()
        config = flow.config_from_settings(settings.raw_environment(flow.SEED_NAMES))
        services = [
            ComputeService(
                bus,
                store,
                config,
                allowed_lateness_ns=settings.allowed_lateness_ns,
                max_batch_messages=batch_messages,
                day_snapshots_kept=settings.day_snapshots_kept,
                checkpoint_every_s=settings.checkpoint_every_ms / 1e3,
                partition=partition,
            )
            for partition, store in zip(owned, stores, strict=True)
        ]
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, partial(_stop_all, services))
        health: ComputeHealth | WorkerHealth
        if len(services) == 1:
            health = ComputeHealth(services[0], max_lag_messages=max_lag_messages)
        else:
            health = WorkerHealth(services, max_lag_messages=max_lag_messages)
        async with health_served(health.report, health_port, observe=health.observe):
            return await run_partitions(services, until_idle=until_idle, finish=finish)
    finally:
        for store in stores:
            await store.close()
        await bus.close()


def _stop_all(services: Sequence[ComputeService]) -> None:
    for service in services:
        service.stop()
