"""Seeding the buffers from ClickHouse, so a restarted daemon starts with its history.

Candles and trades are computed from the stored prints up to one log position (the largest
`log_seq` stored for the run); the daemon then reads the log right after it, so nothing is
counted twice or left out. The queries of this module are the only ones the daemon sends.
"""

from __future__ import annotations

from dataclasses import dataclass

from compute.candles import MarketBuffers, aggressor_of
from infra.warehouse import Warehouse
from schemas.ipc import Candle, Trade

_THROUGH = "SELECT max(log_seq) FROM equity_prints WHERE run_id = {run_id:String}"

# Open and close are the first and last print in log order (the order the daemon applies).
_CANDLES = """
SELECT source, symbol, intDiv(toUnixTimestamp64Nano(ts_recv), {length:UInt64}) * {length:UInt64}
       AS start,
       argMin(price, (log_seq, ts_recv, sequence)), max(price), min(price),
       argMax(price, (log_seq, ts_recv, sequence)), sum(toUInt64(size)), count()
FROM equity_prints
WHERE run_id = {run_id:String} AND log_seq <= {through:UInt64}
GROUP BY source, symbol, start
ORDER BY source, symbol, start DESC
LIMIT {keep:UInt64} BY source, symbol
"""

_TRADES = """
SELECT source, symbol, toUnixTimestamp64Nano(ts_recv), toUnixTimestamp64Nano(ts_event), price,
       size, side, sequence
FROM equity_prints
WHERE run_id = {run_id:String} AND log_seq <= {through:UInt64}
ORDER BY source, symbol, log_seq DESC, ts_recv DESC, sequence DESC
LIMIT {keep:UInt64} BY source, symbol
"""


@dataclass(frozen=True)
class Seeded:
    through_seq: int  # the log position the seeded buffers stand at
    series: int
    candles: int


def seed_buffers(warehouse: Warehouse, buffers: MarketBuffers, run_id: str) -> Seeded:
    """Fill `buffers` from the run's stored prints; returns the log position they stand at."""
    if not warehouse.scalar("EXISTS TABLE equity_prints"):
        return Seeded(0, 0, 0)  # an empty database: nothing stored yet
    through = warehouse.scalar(_THROUGH, {"run_id": run_id})
    if not through:
        return Seeded(0, 0, 0)
    candles = 0
    for name, length in buffers.intervals:
        keep = buffers.config.retention[name]
        parameters = {"run_id": run_id, "through": through, "length": length, "keep": keep}
        rows = warehouse.rows(_CANDLES, parameters)
        by_series: dict[tuple[str, str], list[list[int]]] = {}
        for source, symbol, *values in rows:
            by_series.setdefault((source, symbol), []).append([int(v) for v in values])
        for (source, symbol), values in by_series.items():
            buffers.seed_candles(source, symbol, name, [Candle(*v) for v in reversed(values)])
            candles += len(values)
    trades: dict[tuple[str, str], list[Trade]] = {}
    keep = {"run_id": run_id, "through": through, "keep": buffers.config.trades_kept}
    for source, symbol, ts_recv, ts_event, price, size, side, sequence in warehouse.rows(
        _TRADES, keep
    ):
        trades.setdefault((source, symbol), []).append(
            Trade(source, symbol, ts_recv, ts_event, price, size, aggressor_of(side), sequence)
        )  # fmt: skip
    for (source, symbol), recent in trades.items():
        buffers.seed_trades(source, symbol, reversed(recent))
    return Seeded(int(through), len(trades), candles)
