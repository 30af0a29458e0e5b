"""Engine checkpoints in Redis: state and log position saved together, in one transaction.

Keys are namespaced by run id: `flowtape:{run_id}:checkpoint` is a hash holding the encoded
engine state, the last consumed RAW stream sequence, and the per-source canonical
high-water marks; `flowtape:{run_id}:intent` names the RAW messages of the batch being
processed, so that after a crash exactly that batch is processed again and its outputs are
byte-identical (JetStream then drops the resent messages); `flowtape:{run_id}:snapshot:{day}`
is the engine state at the start of each UTC day, where replays of that day can start.
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

    def __init__(self, client: redis.Redis, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.key = f"flowtape:{run_id}:checkpoint"
        self.intent_key = f"flowtape:{run_id}:intent"

    @classmethod
    def connect(cls, url: str, run_id: str) -> StateStore:
        return cls(redis.Redis.from_url(url), run_id)

    async def close(self) -> None:
        await self.client.aclose()

    async def save(self, checkpoint: Checkpoint) -> None:
        """State, position and high-water marks replace the old ones atomically, and the
        batch intent they complete is cleared in the same transaction."""
        async with self.client.pipeline(transaction=True) as pipe:
            pipe.delete(self.intent_key)
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

    async def save_intent(self, first_seq: int, last_seq: int) -> None:
        await self.client.set(self.intent_key, f"{first_seq}:{last_seq}")

    async def load_intent(self) -> tuple[int, int] | None:
        value = await self.client.get(self.intent_key)
        if value is None:
            return None
        first, last = value.decode().split(":")
        return int(first), int(last)

    def snapshot_key(self, day: str) -> str:
        return f"flowtape:{self.run_id}:snapshot:{day}"

    async def save_day_snapshot(self, day: str, state: bytes) -> bool:
        """The engine state before the first event of `day` (YYYY-MM-DD); the first one
        saved for a day stays (a restart that replays the day's start writes nothing)."""
        return bool(await self.client.set(self.snapshot_key(day), state, nx=True))

    async def clear(self) -> None:
        await self.client.delete(self.key, self.intent_key)
