"""A sharded ClickHouse on loopback: embedded servers, one per shard, in one cluster.

Every server names all shards in its `remote_servers` (cluster `flowtape`, one replica per
shard, in the same order everywhere), so the `Distributed` tables of any of them read and
write all shards. Processes reach the cluster by a comma-separated CLICKHOUSE_URL: every
shard's HTTP URL, in shard order; the first takes the reads (`infra.warehouse.Warehouse`),
migrations and the sink talk to each shard (`infra.migrate`, `live.sink`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from infra.embedded import EmbeddedServer, clickhouse_server, free_ports


@dataclass
class ClickHouseCluster:
    """The shards' servers, started and stopped together."""

    shards: list[EmbeddedServer]

    @property
    def url(self) -> str:
        """Every shard's HTTP URL, comma-separated, in shard order (CLICKHOUSE_URL's form)."""
        return ",".join(shard.url for shard in self.shards)

    def start(self, timeout_s: float = 60.0) -> None:
        """Start each shard in turn (a shard answers on its own before its peers do)."""
        try:
            for shard in self.shards:
                shard.start(timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for shard in reversed(self.shards):
            shard.stop()


def clickhouse_cluster(data_dir: Path, shards: int = 2) -> ClickHouseCluster:
    """`shards` embedded ClickHouse servers, `clickhouse-<i>` storing under
    `data_dir/clickhouse-<i>`, each a shard of the cluster `flowtape`."""
    chosen = free_ports(2 * shards)
    http_ports, tcp_ports = chosen[:shards], chosen[shards:]
    members = [f"127.0.0.1:{port}" for port in tcp_ports]
    return ClickHouseCluster(
        [
            clickhouse_server(
                data_dir / f"clickhouse-{index}",
                port=http_port,
                tcp_port=tcp_port,
                shards=members,
                name=f"clickhouse-{index}",
            )
            for index, (http_port, tcp_port) in enumerate(zip(http_ports, tcp_ports, strict=True))
        ]
    )
