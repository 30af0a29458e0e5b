"""Which shard a row lives on, in a sharded ClickHouse (infra/chcluster.py).

Each table is a MergeTree `<name>_local` on every shard plus a `Distributed` table `<name>`
over them, so every query reads `<name>` as on one server. A row's shard is
`CRC32(key) % shards` (equal weights: the Distributed table's own choice for rows inserted
through it), the key being, per table, the first of these columns it has:

- `packet_id` for `flow_packets` and `packet_prints`: a packet's member prints live with it
  (`packet_prints` keeps no underlying);
- `underlying`: a contract's prints, quotes, inference, hits and alerts live together, and
  every underlying's candles and flow figures on one shard;
- `symbol` (equities, dark pool, crypto, order books, CME), `root` (alpha frames);
- `run_id` for what has none of these (gaps, quarantine, provider events, runs).

`sink_positions` is each shard's own (no Distributed table): the sink's position per shard.
CRC32 is zlib's, so Python places a row exactly where the server would.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from infra.chserver import CLUSTER
from schemas.errors import FlowtapeError

LOCAL_SUFFIX = "_local"
PER_SHARD_TABLES = frozenset({"sink_positions"})
PACKET_TABLES = frozenset({"flow_packets", "packet_prints"})
KEY_COLUMNS = ("underlying", "symbol", "root", "run_id")
_SHARDING_KEY = re.compile(r"^Distributed\(.*,\s*CRC32\(`?(\w+)`?\)\s*\)")


class ShardingError(FlowtapeError):
    code = "sharding"


def key_column(table: str, columns: Collection[str]) -> str:
    """The column whose value picks the shard of `table`'s rows."""
    if table in PACKET_TABLES:
        return "packet_id"
    for column in KEY_COLUMNS:
        if column in columns:
            return column
    raise ShardingError(f"expected {table} to have one of the columns {list(KEY_COLUMNS)}")


def sharding_key(column: str) -> str:
    """The Distributed table's sharding expression for a key column."""
    return f"CRC32({column})"


def key_of_sharding(table: str, engine: str) -> str:
    """The key column of a Distributed table, from its engine (system.tables.engine_full)."""
    match = _SHARDING_KEY.match(engine.strip())
    if match is None:
        raise ShardingError(f"expected {table} sharded by CRC32(column), got {engine!r}")
    return match[1]


def distributed_ddl(table: str, database: str, column: str) -> str:
    """CREATE of the Distributed table `table` over `<table>_local` on every shard."""
    local = f"{table}{LOCAL_SUFFIX}"
    return (
        f"CREATE TABLE IF NOT EXISTS `{table}` AS `{local}` ENGINE = "
        f"Distributed({CLUSTER}, '{database}', '{local}', {sharding_key(column)})"
    )


def shard_numbers(keys: pa.Array | pa.ChunkedArray, shards: int) -> np.ndarray:
    """Per row, the index of the shard its key places it on."""
    encoded = pc.dictionary_encode(keys)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.combine_chunks()
    per_value = np.array(
        [zlib.crc32(str(value).encode()) % shards for value in encoded.dictionary.to_pylist()],
        dtype=np.int64,
    )
    indices = encoded.indices.to_numpy(zero_copy_only=False)
    return per_value[indices] if len(per_value) else np.zeros(len(indices), np.int64)


def split_by_shard(data: pa.Table, column: str, shards: int) -> dict[int, pa.Table]:
    """`data`'s rows per shard, each keeping the rows' order; shards without rows left out."""
    if shards == 1:
        return {0: data}
    numbers = shard_numbers(data.column(column), shards)
    found = np.unique(numbers)
    if len(found) == 1:
        return {int(found[0]): data}
    return {int(s): data.filter(pa.array(numbers == s)) for s in found}
