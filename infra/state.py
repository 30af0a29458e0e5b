"""Engine checkpoints in Redis: state and log position saved together, in one transaction.

Keys are namespaced by run id: `flowtape:{run_id}:checkpoint` is a hash holding the encoded
engine state, the last consumed RAW stream sequence, and the per-source canonical
high-water marks. Expiry is the engine's business (event time), never a Redis TTL.
"""

from __future__ import annotations

from dataclasses import dataclass

import msgspec
import redis.asyncio as redis


@dataclass(frozen=True, slots=True)
class Checkpoint:
    state: bytes
    position: int
    high_water: dict[str, list[int]]


class StateStore:
    """Checkpoint storage for one run."""

    def __init__(self, client: redis.Redis, run_id: str) -> None:
        self.client = client
        self.run_id = run_id
        self.key = f"flowtape:{run_id}:checkpoint"

    @classmethod
    def connect(cls, url: str, run_id: str) -> StateStore:
        return cls(redis.Redis.from_url(url), run_id)

    async def close(self) -> None:
        await self.client.aclose()

    async def save(self, checkpoint: Checkpoint) -> None:
        """State, position and high-water marks replace the old ones atomically."""
        async with self.client.pipeline(transaction=True) as pipe:
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
            high_water=msgspec.json.decode(values[b"high_water"], type=dict[str, list[int]]),
        )

    async def clear(self) -> None:
        await self.client.delete(self.key)
