"""Serve ClickHouse over HTTP and TCP from chdb-core's engine, in this process until SIGTERM.

Run as `python -m infra.chserver --data-dir DIR --http-port P --tcp-port Q [--query-log]
[--shard HOST:TCP_PORT ...]` (`--query-log` keeps `system.query_log` and `system.part_log`, for
benchmarks; `--shard`, given once per shard in order, makes this server one shard of the
cluster `flowtape`, see infra/chcluster.py). The engine reads
`config.xml` from the working directory, so this writes one there and makes DIR the working
directory. The endless `sleepEachRow` query keeps the listeners alive; the format must be TSV
(clickhouse-connect's version probe fails with CSV).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

_CONFIG = """<clickhouse>
  <http_port>{http_port}</http_port>
  <tcp_port>{tcp_port}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <max_server_memory_usage_to_ram_ratio>0.5</max_server_memory_usage_to_ram_ratio>
{logs}{cluster}</clickhouse>
"""
_LOGS = "".join(
    f"  <{name}><database>system</database><table>{name}</table>"
    f"<flush_interval_milliseconds>1000</flush_interval_milliseconds></{name}>\n"
    for name in ("query_log", "part_log")
)

# A shard's users file: the default user's profile makes reads and writes through the
# Distributed tables behave as on one server. `global` runs an IN / JOIN subquery over a
# Distributed table once, on the server that took the query, and ships its result to the
# shards (right whatever shard each row lives on); foreground inserts are acknowledged only
# once every shard holds its rows.
_USERS = """<clickhouse>
  <profiles><default>
    <distributed_product_mode>global</distributed_product_mode>
    <distributed_foreground_insert>1</distributed_foreground_insert>
  </default></profiles>
  <users><default>
    <password></password>
    <networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile>
    <quota>default</quota>
  </default></users>
  <quotas><default></default></quotas>
</clickhouse>
"""
CLUSTER = "flowtape"


def cluster_config(shards: list[str]) -> str:
    """The `remote_servers` entry of a cluster with one replica per shard (`host:port`, TCP),
    and the users file that carries the shards' profile."""
    entries = "".join(
        f"<shard><replica><host>{host}</host><port>{port}</port></replica></shard>"
        for host, _, port in (shard.rpartition(":") for shard in shards)
    )
    return (
        f"  <remote_servers><{CLUSTER}>{entries}</{CLUSTER}></remote_servers>\n"
        "  <users_config>users.xml</users_config>\n"
    )


_SERVE = (
    "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP; "
    "SELECT sleepEachRow(1) FROM system.numbers SETTINGS max_block_size=1, "
    "function_sleep_max_microseconds_per_block=0, max_execution_time=0"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--http-port", type=int, required=True)
    parser.add_argument("--tcp-port", type=int, required=True)
    parser.add_argument("--query-log", action="store_true", help="keep query_log and part_log")
    parser.add_argument(
        "--shard", action="append", default=[], help="HOST:TCP_PORT of each cluster shard"
    )
    args = parser.parse_args()

    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.xml").write_text(
        _CONFIG.format(
            http_port=args.http_port,
            tcp_port=args.tcp_port,
            logs=_LOGS if args.query_log else "",
            cluster=cluster_config(args.shard) if args.shard else "",
        )
    )
    if args.shard:
        (data_dir / "users.xml").write_text(_USERS)
    os.chdir(data_dir)

    import chdb._chdb as engine  # chdb-core's internal entry; the version is pinned exactly

    engine.query(_SERVE, "TSV", path=str(data_dir / "data"))


if __name__ == "__main__":
    main()
