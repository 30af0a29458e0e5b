"""Engine checkpoints in Redis: state and log position saved together, in one transaction.

Keys are namespaced by run id:
- `flowtape:{run_id}:checkpoint`, a hash: the service's own state (the reorder buffer), the
  last consumed RAW stream sequence, and the per-source canonical high-water marks;
- `flowtape:{run_id}:engine:snapshot` and `...:engine:deltas` (a list): the engine's full
  snapshot and the deltas saved after it, so a checkpoint writes only the rows a batch
  touched;
- `flowtape:{run_id}:intent`: the RAW messages of the batch being processed, so that after
  a crash exactly that batch is processed again and its outputs are byte-identical
  (JetStream then drops the resent messages);
- `flowtape:{run_id}:snapshot:{day}`: the engine state at the start of each UTC day, where
  replays of that day can start; the newest DAY_SNAPSHOTS_KEPT days are kept.
A partition of partitioned live compute keeps the same keys under `flowtape:{run_id}:{partition}:`
(e.g. `flowtape:live:p1of4:checkpoint`), so its checkpoint belongs to the partition, not to
whichever worker runs it.
Expiry is the engine's business (event time), never a Redis TTL.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import redis.asyncio as redis

from schemas.ordering import HighWater


@dataclass(frozen=True, slots=True)
class Checkpoint:
    state: bytes
    position: int
    high_water: HighWater


class StateStore:
    """Checkpoint storage for one run."""

    def __init__(self, client: redis.Redis, run_id: str, *, partition: str = "") -> None:
        self.client = client
        self.run_id = run_id
        self.prefix = f"flowtape:{run_id}:{partition}" if partition else f"flowtape:{run_id}"
        self.key = f"{self.prefix}:checkpoint"
        self.intent_key = f"{self.prefix}:intent"
        self.engine_key = f"{self.prefix}:engine:snapshot"
        self.deltas_key = f"{self.prefix}:engine:deltas"

    @classmethod
    def connect(cls, url: str, run_id: str, *, partition: str = "") -> StateStore:
        return cls(redis.Redis.from_url(url), run_id, partition=partition)

    async def close(self) -> None:
        await self.client.aclose()

    async def save(
        self, checkpoint: Checkpoint, *, snapshot: bytes | None = None, delta: bytes | None = None
    ) -> None:
        """State, position and high-water marks replace the old ones atomically, and the
        batch intent they complete is cleared in the same transaction; in it too the engine's
        `snapshot` replaces its snapshot and deltas, and its `delta` joins the deltas."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.intent_key)
            if snapshot is not None:
                pipe.set(self.engine_key, snapshot)
                pipe.delete(self.deltas_key)
            if delta is not None:
                pipe.rpush(self.deltas_key, delta)
            pipe.hset(
                self.key,
                mapping={
                    "state": checkpoint.state,
                    "position": checkpoint.position,
                    "high_water": msgspec.json.encode(checkpoint.high_water),
                },
            )
            await pipe.execute()

    async def load(self) -> Checkpoint | None:
        values = await self.client.hgetall(self.key)
        if not values:
            return None
        return Checkpoint(
            state=values[b"state"],
            position=int(values[b"position"]),
            high_water=msgspec.json.decode(values[b"high_water"], type=HighWater),
        )

    async def load_engine(self) -> tuple[bytes, list[bytes]] | None:
        """The engine's snapshot and the deltas saved after it, None before the first."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.get(self.engine_key)
            pipe.lrange(self.deltas_key, 0, -1)
            snapshot, deltas = await pipe.execute()
        if snapshot is None:
            return None
        return snapshot, list(deltas)

    async def save_intent(self, first_seq: int, last_seq: int) -> None:
        await self.client.set(self.intent_key, f"{first_seq}:{last_seq}")

    async def load_intent(self) -> tuple[int, int] | None:
        value = await self.client.get(self.intent_key)
        if value is None:
            return None
        first, last = value.decode().split(":")
        return int(first), int(last)

    def snapshot_key(self, day: str) -> str:
        return f"{self.prefix}:snapshot:{day}"

    async def save_day_snapshot(self, day: str, state: bytes, *, keep: int) -> bool:
        """The engine state before the first event of `day` (YYYY-MM-DD); the first one
        saved for a day stays (a restart that replays the day's start writes nothing). Only
        the newest `keep` days' snapshots are kept: each weighs as much as the whole state."""
        saved = bool(await self.client.set(self.snapshot_key(day), state, nx=True))
        days = sorted([key async for key in self.client.scan_iter(match=self.snapshot_key("*"))])
        if len(days) > keep:
            await self.client.delete(*days[:-keep])  # ISO dates sort as days do
        return saved

    async def clear(self) -> None:
        await self.client.delete(self.key, self.intent_key, self.engine_key, self.deltas_key)
