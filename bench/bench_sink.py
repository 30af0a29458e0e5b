"""Sink throughput: JetStream -> ClickHouse (rows/s), beside ClickHouse's bare insert_arrow rate.

Starts its own embedded NATS and ClickHouse in a temporary folder, publishes a session of
option prints (RAW) and their per-print inference (DERIVED), then times
`Sink.run_until_idle()` storing all of it, and times inserting the same rows as ready-made
Arrow tables into an identical database. Both databases carry the analytics views, so both
figures include the materialised views' work. The bar is >= 100 k rows/s through the sink.

    .venv/bin/python bench/bench_sink.py [--prints 1000000]
"""

from __future__ import annotations

import argparse
import asyncio
import re
import tempfile
import time
from pathlib import Path

import pyarrow as pa

from infra.bus import Bus
from infra.embedded import clickhouse_server, nats_server
from infra.migrate import available_migrations, migrate, schema_objects
from infra.warehouse import Warehouse, tables_for
from live.sink.config import SinkConfig
from live.sink.service import Sink
from schemas.events import Event, OptionPrint, PrintInference
from schemas.occ import format_occ
from schemas.subjects import derived_subject, raw_subject

T0 = 1_704_290_400 * 10**9  # 2024-01-03 14:00 UTC
BAR_ROWS_PER_S = 100_000


def make_session(prints: int) -> tuple[list[OptionPrint], list[PrintInference]]:
    symbols = [
        format_occ(root, 20240119, right, (100 + k) * 10**9)
        for root in ("AAPL", "SPY", "TSLA", "NVDA")
        for right in ("C", "P")
        for k in range(25)
    ]
    raw: list[OptionPrint] = []
    derived: list[PrintInference] = []
    for n in range(prints):
        symbol = symbols[n % len(symbols)]
        ts = T0 + n * 20_000  # 50 k prints per second of market time
        price = (100 + n % 400) * 10**7
        p = OptionPrint(
            ts_recv=ts, ts_event=ts - 1_000, publisher_id=20 + n % 16,
            instrument_id=n % len(symbols) + 1, sequence=n, source="databento",
            symbol=symbol, underlying=symbol.split()[0], price=price, size=1 + n % 50,
            bid_px=price - 10**7, ask_px=price, bid_sz=10, ask_sz=12,
        )  # fmt: skip
        raw.append(p)
        derived.append(
            PrintInference(
                run_id="live", ts_recv=ts, ts_event=ts - 1_000, publisher_id=p.publisher_id,
                instrument_id=p.instrument_id, sequence=n, symbol=symbol,
                underlying=p.underlying, price=price, size=p.size, side="buy", bucket="A",
                rule="quote", confidence=0.83, nbbo_status="print", nbbo_bid_px=price - 10**7,
                nbbo_ask_px=price, nbbo_bid_sz=10, nbbo_ask_sz=12, nbbo_ts_recv=ts - 5_000,
            )
        )  # fmt: skip
    return raw, derived


async def publish(bus: Bus, raw: list[OptionPrint], derived: list[PrintInference]) -> float:
    started = time.perf_counter()
    step = 5_000
    for start in range(0, len(raw), step):
        await bus.publish(raw_subject(OptionPrint, "databento"), raw[start : start + step],
                          run_id="live")  # fmt: skip
        await bus.publish(derived_subject(PrintInference), derived[start : start + step],
                          run_id="live")  # fmt: skip
    return time.perf_counter() - started


def bare_insert_rate(warehouse: Warehouse, events: list[Event], chunk: int) -> tuple[int, float]:
    """Rows/s of insert_arrow alone: Arrow tables are built before the clock starts."""
    batches: list[tuple[str, pa.Table]] = []
    for start in range(0, len(events), chunk):
        part = events[start : start + chunk]
        for table, data in tables_for(part, run_id="live", log_seqs=[1] * len(part)).items():
            batches.append((table, data))
    started = time.perf_counter()
    for table, data in batches:
        warehouse.insert_arrow(table, data)
    elapsed = time.perf_counter() - started
    return sum(d.num_rows for _, d in batches), elapsed


_VIEW = re.compile(r"^CREATE\s+(?:OR\s+REPLACE\s+)?(?:MATERIALIZED\s+)?VIEW\b", re.IGNORECASE)


async def main(prints: int) -> None:
    with tempfile.TemporaryDirectory(prefix="flowtape-bench-sink-") as folder:
        root = Path(folder)
        nats, clickhouse = nats_server(root / "nats"), clickhouse_server(root / "clickhouse")
        nats.start()
        clickhouse.start()
        try:
            sink_db = Warehouse.connect(clickhouse.url, "bench_sink")
            bare_db = Warehouse.connect(clickhouse.url, "bench_bare")
            migrate(sink_db)
            migrate(bare_db)
            plain_db = Warehouse.connect(clickhouse.url, "bench_no_views")
            for obj in schema_objects(available_migrations()):  # the tables, not the views
                if not _VIEW.match(obj.statements[0]):
                    for statement in obj.statements:
                        plain_db.command(statement)
            bus = await Bus.connect(nats.url)
            await bus.ensure_streams()

            started = time.perf_counter()
            raw, derived = make_session(prints)
            print(f"built {2 * prints:,} events in {time.perf_counter() - started:.1f}s")
            seconds = await publish(bus, raw, derived)
            print(f"published {2 * prints:,} events (acked) in {seconds:.1f}s "
                  f"= {2 * prints / seconds:,.0f} events/s")  # fmt: skip

            sink = Sink(bus, sink_db, config=SinkConfig())
            started = time.perf_counter()
            metrics = await sink.run_until_idle()
            sink_s = time.perf_counter() - started
            sink_rows = sum(m.rows_total for m in metrics.streams.values())
            stored = sum(
                int(sink_db.scalar(f"SELECT count() FROM {t}"))  # noqa: S608  (constant names)
                for t in ("option_prints", "print_inference")
            )
            assert stored == sink_rows == 2 * prints, (stored, sink_rows)

            bare_rows, bare_s = bare_insert_rate(bare_db, [*raw, *derived], chunk=200_000)
            plain_rows, plain_s = bare_insert_rate(plain_db, [*raw, *derived], chunk=200_000)
            await bus.close()

            sink_rate, bare_rate = sink_rows / sink_s, bare_rows / bare_s
            for name, m in metrics.streams.items():
                print(f"  {name}: {m.batches} batches, max {m.max_batch_rows:,} rows, "
                      f"{m.inserts} inserts, mean insert "
                      f"{m.insert_seconds_total / max(1, m.inserts) * 1000:.0f} ms, "
                      f"retries {m.retries}")  # fmt: skip
            print(f"sink (JetStream -> ClickHouse): {sink_rows:,} rows in {sink_s:.2f}s "
                  f"= {sink_rate:,.0f} rows/s")  # fmt: skip
            print(f"bare insert_arrow:              {bare_rows:,} rows in {bare_s:.2f}s "
                  f"= {bare_rate:,.0f} rows/s")  # fmt: skip
            print(f"bare insert_arrow, no views:    {plain_rows:,} rows in {plain_s:.2f}s "
                  f"= {plain_rows / plain_s:,.0f} rows/s")  # fmt: skip
            verdict = "meets" if sink_rate >= BAR_ROWS_PER_S else "MISSES"
            print(f"sink/bare = {sink_rate / bare_rate:.2f}; {verdict} the bar of "
                  f"{BAR_ROWS_PER_S:,} rows/s")  # fmt: skip
            for db in (sink_db, bare_db, plain_db):
                db.close()
        finally:
            clickhouse.stop()
            nats.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prints", type=int, default=500_000)
    asyncio.run(main(parser.parse_args().prints))
