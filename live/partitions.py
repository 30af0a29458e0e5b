"""Logical partitions of live compute: which a worker runs, and the guard on their count.

A run's options-flow events are split over a fixed number of logical partitions
(FLOWTAPE_PARTITIONS, by underlying; ingest publishes them on `flow.raw.<type>.<source>.p<k>`).
Each partition is one engine with its own ordered consumer and its own checkpoint, keyed by
the partition (`flowtape:{run_id}:p<k>of<n>:…`), so a worker owns a set of partitions and a
partition can move to another worker: stop the worker running it, start one that owns it,
and it resumes from the partition's checkpoint. The count is fixed for a run: Redis keeps it
beside the checkpoints and a worker started with another count is refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as redis

from schemas.errors import ConfigError
from schemas.subjects import partition_filters


@dataclass(frozen=True, slots=True)
class Partition:
    """Partition `index` of `count`."""

    index: int
    count: int

    @property
    def label(self) -> str:
        """The partition's namespace under the run's Redis keys, e.g. `p1of4`."""
        return f"p{self.index}of{self.count}"

    @property
    def filters(self) -> tuple[str, ...]:
        """The RAW subjects its engine reads."""
        return partition_filters(self.index)


def owned_partitions(spec: str | None, count: int) -> list[Partition]:
    """The partitions named by `spec` ("0,2"; None or empty: all `count` of them)."""
    if count < 1:
        raise ConfigError(f"the partition count must be at least 1, got {count}")
    if not spec:
        return [Partition(k, count) for k in range(count)]
    indexes: list[int] = []
    for item in spec.split(","):
        text = item.strip()
        if not text.isdigit() or int(text) >= count:
            raise ConfigError(
                f"expected partitions among 0..{count - 1} (FLOWTAPE_PARTITIONS={count}), "
                f"comma-separated, got {spec!r}"
            )
        if int(text) not in indexes:
            indexes.append(int(text))
    return [Partition(k, count) for k in sorted(indexes)]


def count_key(run_id: str) -> str:
    return f"flowtape:{run_id}:partitions"


async def check_partition_count(client: redis.Redis, run_id: str, count: int) -> None:
    """Record the run's partition count on first use; refuse a worker started with another
    (its partitions would split the underlyings otherwise and repeat or lose outputs)."""
    stored = await client.get(count_key(run_id))
    if stored is None and count > 1:
        if await client.exists(f"flowtape:{run_id}:checkpoint"):
            stored = b"1"  # the run was computed unpartitioned so far
        else:
            await client.set(count_key(run_id), count, nx=True)
            stored = await client.get(count_key(run_id))
    found = 1 if stored is None else int(stored)
    if found != count:
        raise ConfigError(
            f"run {run_id!r} is computed in {found} partition(s), not {count}: "
            "set FLOWTAPE_PARTITIONS to match, or start another run id"
        )
