"""Serve ClickHouse over HTTP and TCP from chdb-core's engine, in this process until SIGTERM.

Run as `python -m infra.chserver --data-dir DIR --http-port P --tcp-port Q [--query-log]`
(`--query-log` keeps `system.query_log` and `system.part_log`, for benchmarks). The engine reads
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
{logs}</clickhouse>
"""
_LOGS = "".join(
    f"  <{name}><database>system</database><table>{name}</table>"
    f"<flush_interval_milliseconds>1000</flush_interval_milliseconds></{name}>\n"
    for name in ("query_log", "part_log")
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
    args = parser.parse_args()

    data_dir: Path = args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "config.xml").write_text(
        _CONFIG.format(
            http_port=args.http_port,
            tcp_port=args.tcp_port,
            logs=_LOGS if args.query_log else "",
        )
    )
    os.chdir(data_dir)

    import chdb._chdb as engine  # chdb-core's internal entry; the version is pinned exactly

    engine.query(_SERVE, "TSV", path=str(data_dir / "data"))


if __name__ == "__main__":
    main()
