"""Candle queries and live candle building: what `/v1/candles` and the `candles` channel cost.

Starts its own embedded ClickHouse in a temporary folder, stores a day of option prints over
200 contracts of 4 underlyings and equity prints of those underlyings (the candle views fill
as they are inserted), then times `fetch_candles` for one contract, one underlying and one
equity at every timeframe (the median of 5 runs, limit 500; 1 m and coarser roll up the
minute views, 1 s aggregates the prints). It also times `LiveCandle.add_print`, the live
channel's per-print work, in prints per second of one core.

    .venv/bin/python bench/bench_candles.py [--prints 1000000]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from analytics.candles import SOURCES, CandleRequest, fetch_candles
from analytics.live_candles import LiveCandle
from analytics.timeframes import TIMEFRAMES
from infra.embedded import clickhouse_server
from infra.migrate import migrate
from infra.warehouse import Warehouse
from schemas.events import EquityPrint, Event, OptionPrint
from schemas.occ import format_occ

T0 = 1_704_290_400 * 10**9  # 2024-01-03 14:00 UTC
DAY_NS = 86_400 * 10**9
ROOTS = ("AAPL", "SPY", "TSLA", "NVDA")


def make_prints(prints: int) -> tuple[list[Event], str]:
    """Option prints across a day (one equity print per four) and the busiest contract."""
    symbols = [format_occ(root, 20240119, right, (100 + k) * 10**9)
               for root in ROOTS for right in ("C", "P") for k in range(25)]  # fmt: skip
    step = DAY_NS // prints
    out: list[Event] = []
    for n in range(prints):
        ts, symbol = T0 + n * step, symbols[n % len(symbols)]
        price = (100 + n % 400) * 10**7
        out.append(OptionPrint(
            ts_recv=ts, ts_event=ts - 1_000, publisher_id=20 + n % 16, sequence=n,
            instrument_id=n % len(symbols) + 1, source="databento", symbol=symbol,
            underlying=symbol.split()[0], price=price, size=1 + n % 50,
        ))  # fmt: skip
        if n % 4 == 0:
            out.append(EquityPrint(
                ts_recv=ts, ts_event=ts - 1_000, publisher_id=2 + n % 3, instrument_id=1,
                sequence=n, source="databento", symbol=ROOTS[n % len(ROOTS)], venue="XNAS",
                off_exchange=n % 8 == 0, price=(190 + n % 7) * 10**9, size=100,
            ))  # fmt: skip
    return out, symbols[0]


def time_queries(warehouse: Warehouse, contract: str) -> None:
    print(f"{'kind':<11} {'tf':<3} {'candles':>7} {'median ms':>9}")
    for kind, key in (("contract", contract), ("underlying", "AAPL"), ("equity", "AAPL")):
        for frame in TIMEFRAMES:
            request = CandleRequest(kind, key, frame, limit=500)
            times, found = [], []
            for _ in range(5):
                started = time.perf_counter()
                found = fetch_candles(warehouse, request)
                times.append(time.perf_counter() - started)
            print(f"{kind:<11} {frame.name:<3} {len(found):>7} "
                  f"{statistics.median(times) * 1e3:>9.1f}")  # fmt: skip


def time_live(events: list[Event]) -> None:
    options = [e for e in events if isinstance(e, OptionPrint)]
    candle = LiveCandle(SOURCES["contract"], 0)
    started = time.perf_counter()
    for event in options:
        candle.add_print(event)
    elapsed = time.perf_counter() - started
    print(f"LiveCandle.add_print: {len(options) / elapsed:,.0f} prints/s (one series, one core)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prints", type=int, default=200_000)
    args = parser.parse_args()
    events, contract = make_prints(args.prints)
    with tempfile.TemporaryDirectory() as tmp:
        server = clickhouse_server(Path(tmp) / "clickhouse")
        server.start()
        try:
            warehouse = Warehouse.connect(server.url, "bench_candles")
            migrate(warehouse)
            started = time.perf_counter()
            warehouse.insert_events(events, run_id="live", log_seq=1)
            print(f"{args.prints:,} option prints and {len(events) - args.prints:,} equity "
                  f"prints stored in {time.perf_counter() - started:.1f} s")  # fmt: skip
            time_queries(warehouse, contract)
            warehouse.close()
        finally:
            server.stop()
    time_live(events)


if __name__ == "__main__":
    main()
