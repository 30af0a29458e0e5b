"""Engine checkpoints in Redis: state and log position saved together, in one transaction.

Keys are namespaced by run id:
- `flowtape:{run_id}:checkpoint`, a hash: the service's own state (the reorder buffer), the
  last consumed RAW stream sequence, and the per-source canonical high-water marks;
- `flowtape:{run_id}:engine:snapshot` and `...:engine:deltas` (a list): the engine's full
  snapshot and the deltas saved after it, so a checkpoint writes only the rows a batch
  touched;
- `flowtape:{run_id}:intent`: a list, the RAW sequence range of every batch processed since
  the checkpoint (the last one perhaps still being processed), so that after a crash exactly
  those batches are processed again and their outputs are byte-identical (JetStream then
  drops the resent messages);
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
        batch intents they complete are cleared in the same transaction; in it too the
        engine's `snapshot` replaces its snapshot and deltas, and its `delta` joins the
        deltas."""
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
        """Journal a batch (its RAW sequence range) before it is processed."""
        await self.client.rpush(self.intent_key, f"{first_seq}:{last_seq}")

    async def load_intents(self) -> list[tuple[int, int]]:
        """The batches journaled since the checkpoint, in order."""
        if await self.client.type(self.intent_key) == b"string":  # a single intent, as kept
            value = await self.client.get(self.intent_key)  # before the journal
            async with self.client.pipeline(transaction=True) as pipe:
                pipe.delete(self.intent_key)
                if value is not None:
                    pipe.rpush(self.intent_key, value)
                await pipe.execute()
        values = await self.client.lrange(self.intent_key, 0, -1)
        return [_seq_range(value) for value in values]

    async def load_intent(self) -> tuple[int, int] | None:
        """The batch journaled since the checkpoint, for a service that checkpoints after
        every batch (a journal of several comes back as the range that covers them)."""
        intents = await self.load_intents()
        return (intents[0][0], intents[-1][1]) if intents else None

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


def _seq_range(value: bytes | str) -> tuple[int, int]:
    first, last = (value.decode() if isinstance(value, bytes) else value).split(":")
    return int(first), int(last)
