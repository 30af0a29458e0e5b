"""The features engine run live on the log.

Reads RAW from a stream position in order, restores the canonical order with the reorder
buffer (`allowed_lateness_ns`), steps `compute.features` on each released micro-batch,
publishes what comes out to DERIVED (the engine's `emit_interval_ns` limits each symbol's
rate) and keeps the latest features per symbol, the recent signals and counters for its
HTTP. Signals also go to every subscriber queue (the WebSocket channel). The same engine
replayed over the same log gives the same outputs (tests/integration/ingest/crypto).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter, defaultdict, deque
from typing import Any

import msgspec

from compute.features import (
    FeaturesConfig,
    decode_state,
    encode_state,
    finish,
    initial_state,
    step,
)
from infra.bus import Bus, LogMessage, StreamReader
from infra.health import HealthStatus, HealthTracker
from infra.state import Checkpoint, StateStore
from live.reorder import ReorderBuffer
from live.restore import restore_engine
from schemas.crypto import CryptoFeatures, CryptoSignal
from schemas.events import Event, event_tag
from schemas.subjects import RAW_STREAM, derived_subject

RECENT_SIGNALS = 1_000


class FeaturesService:
    """Runs until `stop()`.

    With a `store` (Redis) every batch is checkpointed: the engine state, the reorder buffer
    and the position in one transaction, after the batch's outputs are on DERIVED. A batch
    is recorded as the intent first, so after a crash exactly that batch runs again and its
    outputs are byte-identical messages the stream's duplicate window drops; `stop()` then
    keeps the session open for the next run. Without a store `stop()` ends the session: the
    reorder buffer is flushed and the engine's `finish()` runs.
    """

    def __init__(
        self,
        bus: Bus,
        config: FeaturesConfig,
        *,
        run_id: str = "live",
        allowed_lateness_ns: int = 2_000_000_000,
        start_seq: int = 1,
        store: StateStore | None = None,
    ) -> None:
        self.bus = bus
        self.store = store
        self.allowed_lateness_ns = allowed_lateness_ns
        self.run_id = run_id
        self.state = initial_state(config, run_id)
        self.reorder = ReorderBuffer(allowed_lateness_ns)
        self.start_seq = start_seq
        self.latest: dict[str, CryptoFeatures] = {}
        self.signals: deque[CryptoSignal] = deque(maxlen=RECENT_SIGNALS)
        self.counts: Counter[str] = Counter()
        self.position = start_seq - 1
        self.tracker = HealthTracker()
        self.running = False
        self._subscribers: set[asyncio.Queue[CryptoSignal]] = set()
        self._stopping = asyncio.Event()

    def stop(self) -> None:
        self._stopping.set()

    def subscribe(self) -> asyncio.Queue[CryptoSignal]:
        queue: asyncio.Queue[CryptoSignal] = asyncio.Queue(maxsize=RECENT_SIGNALS)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[CryptoSignal]) -> None:
        self._subscribers.discard(queue)

    async def run(self) -> None:
        intent = await self._restore()
        reader = await self.bus.reader(RAW_STREAM, start_seq=self.position + 1)
        self.running = True
        try:
            while not self._stopping.is_set():
                messages = await self._next_batch(reader, intent[1] if intent else None)
                intent = None
                if not messages:
                    continue
                if self.store is not None:
                    await self.store.save_intent(messages[0].stream_seq, messages[-1].stream_seq)
                outputs: list[Event] = []
                for message in messages:
                    released = [e for event in message.events for e in self.reorder.push(event)]
                    self.counts["events"] += len(message.events)
                    outputs.extend(step(self.state, released)[1])
                await self._publish(outputs)
                self._take(outputs)
                self.position = messages[-1].stream_seq
                await self._checkpoint()
                self.tracker.cycle()
        except Exception as exc:
            self.tracker.error(f"{type(exc).__name__}: {exc}"[:500])
            raise
        finally:
            self.running = False
            with contextlib.suppress(Exception):
                await reader.close()
        if self.store is None:
            tail = step(self.state, self.reorder.flush())[1] + finish(self.state)[1]
            await self._publish(tail)
            self._take(tail)

    async def _restore(self) -> tuple[int, int] | None:
        """The checkpointed engine, buffer and position; the unfinished batch, if any."""
        if self.store is None:
            return None
        restored = await restore_engine(
            self.store, decode_state, config=self.state.config, what="features",
            allowed_lateness_ns=self.allowed_lateness_ns, run_id=self.run_id,
        )  # fmt: skip
        if restored is not None:
            self.state, self.reorder = restored.state, restored.reorder
            self.position = restored.checkpoint.position
        return await self.store.load_intent()

    async def _next_batch(self, reader: StreamReader, through: int | None) -> list[LogMessage]:
        """The next messages; exactly those up to `through` when running an intent again."""
        if through is None:
            return await reader.fetch(256, timeout_s=0.2)
        messages: list[LogMessage] = []
        while not self._stopping.is_set():
            last = messages[-1].stream_seq if messages else self.position
            if last >= through:
                return messages
            messages.extend(await reader.fetch(through - last, timeout_s=0.2))
        return []

    async def _checkpoint(self) -> None:
        if self.store is not None:
            checkpoint = Checkpoint(
                state=self.reorder.snapshot(), position=self.position, high_water={}
            )
            await self.store.save(checkpoint, snapshot=encode_state(self.state))

    async def _publish(self, outputs: list[Event]) -> None:
        """Outputs to DERIVED, one acknowledged message per type (content ids: a resent
        message is stored once)."""
        by_type: dict[type[Event], list[Event]] = defaultdict(list)
        for output in outputs:
            by_type[type(output)].append(output)
        for event_type, group in by_type.items():
            await self.bus.publish(derived_subject(event_type), group, run_id=self.run_id)
            self.counts[f"published_{event_tag(event_type)}"] += len(group)

    def _take(self, outputs: list[Event]) -> None:
        for output in outputs:
            if isinstance(output, CryptoFeatures):
                self.latest[output.symbol] = output
                self.counts["features"] += 1
            elif isinstance(output, CryptoSignal):
                self.signals.append(output)
                self.counts["signals"] += 1
                for queue in self._subscribers:
                    with contextlib.suppress(asyncio.QueueFull):  # a stalled reader misses some
                        queue.put_nowait(output)

    def health_report(self) -> dict[str, Any]:
        """The health contract (infra.health): down when the engine loop is not running,
        degraded while NATS is unreachable."""
        status: HealthStatus = "ok"
        if not self.running:
            status = "down"
        elif not self.bus.nc.is_connected:
            status = "degraded"
        return self.tracker.report(
            status, position=self.position, late=self.reorder.late, pending=len(self.reorder)
        )

    def stats(self) -> dict[str, Any]:
        return {
            **self.counts,
            "position": self.position,
            "late": self.reorder.late,
            "pending": len(self.reorder),
            "symbols": len(self.latest),
            "subscribers": len(self._subscribers),
        }

    def state_latest(self) -> dict[str, Any]:
        """Every symbol's latest features."""
        return {s: msgspec.to_builtins(f) for s, f in sorted(self.latest.items())}
