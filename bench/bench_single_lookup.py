# ruff: noqa: T201  (a benchmark prints its figures)
"""How long a single's evidence takes to find by its id, in a run already stored.

A lone print has no packet row: `/v1/packets/{id}` finds it by computing the ids of the run's
lone prints (api/singles.py), newest first, or only in the millisecond `ts_ms` names. This
reads the newest and the oldest lone print of the run, and an id no print has, each from a
fresh Store (nothing remembered), with and without that moment, and prints the times beside
the run's count of prints.

    .venv/bin/python bench/bench_single_lookup.py --clickhouse http://127.0.0.1:8123/flowtape
        [--run live]

Point it at a stack that has run a while, e.g. `flowtape up --source-args "--speed 10"`
(the ClickHouse URL is in .flowtape/stack.json).
"""

from __future__ import annotations

import argparse
import time

from api.singles import key_of, single_rows
from api.store import Store
from infra.warehouse import Warehouse
from schemas.derived_tables import packet_id_of_print

ABSENT = "0" * 32


def timed_ms(warehouse: Warehouse, run_id: str, packet_id: str, ts_ms: int | None) -> str:
    started = time.perf_counter()
    found = Store(warehouse).packet_evidence(run_id, packet_id, ts_ms)
    took = (time.perf_counter() - started) * 1000
    return f"{took:7.0f} ms ({'found' if found else 'none'})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clickhouse", required=True, help="http://host:port/database")
    parser.add_argument("--run", default="live")
    args = parser.parse_args()
    warehouse = Warehouse.connect(args.clickhouse, create=False)
    prints = warehouse.scalar(
        "SELECT count() FROM print_inference WHERE run_id = {r:String}", {"r": args.run}
    )
    print(f"run {args.run!r}: {prints:,} prints")
    for which, newest_first in (("newest", True), ("oldest", False)):
        rows = single_rows(warehouse, {"run_id": args.run, "limit": 1}, newest_first=newest_first)
        if not rows:
            raise SystemExit(f"no lone print in run {args.run!r}")
        packet_id = packet_id_of_print(args.run, *key_of(rows[0]))
        moment = rows[0]["ts_event"] // 1_000_000
        print(
            f"{which} single: id alone {timed_ms(warehouse, args.run, packet_id, None)}, "
            f"with ts_ms {timed_ms(warehouse, args.run, packet_id, moment)}"
        )
    print(
        f"absent id:     id alone {timed_ms(warehouse, args.run, ABSENT, None)}, "
        f"with ts_ms {timed_ms(warehouse, args.run, ABSENT, moment)}"
    )


if __name__ == "__main__":
    main()
