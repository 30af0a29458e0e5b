"""Seeding the buffers from ClickHouse, so a restarted daemon starts with its history.

For each stored trade table, candles and the trade ring stand at the largest `log_seq` the
table holds for the run; the daemon then skips that table's trades up to that position when
it reads the log, so nothing is counted twice or left out. Candles of the days before the
last stored trade's day roll up from the 1-minute candle table where there is one (and one
source, as that table does not tell sources apart); the rest come from the trades. Every
interval divides a day, so no candle straddles that cut. The queries of this module are the
only ones the daemon sends.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from compute.candles import MarketBuffers
from infra.warehouse import Warehouse
from schemas.crypto import CryptoTrade
from schemas.events import EquityPrint, Event
from schemas.ipc import Candle, Trade


@dataclass(frozen=True)
class TradeTable:
    event_type: type[Event]
    table: str
    venue: str  # the column the daemon keys trades of this table by (see `trade_of`)
    aggressor: str  # SQL giving buy / sell / unknown
    minute_candles: str = ""  # its 1-minute candle table (keyed by symbol alone), if any


TRADE_TABLES = (
    TradeTable(EquityPrint, "equity_prints", "source",
               "multiIf(side = 'B', 'buy', side = 'A', 'sell', 'unknown')", "candles_equity"),
    TradeTable(CryptoTrade, "crypto_trades", "venue", "side"),
)  # fmt: skip
_DAY_NS = 86_400 * 1_000_000_000

_SOURCES = """
SELECT groupUniqArray(2)({venue}), max(toUnixTimestamp64Nano(ts_recv))
FROM `{table}` WHERE run_id = {{run_id:String}} AND log_seq <= {{through:UInt64}}
"""

# Rolled up from minute rows whose open and close are (canonical key..., price) tuples.
_MINUTE_CANDLES = """
SELECT symbol, intDiv(toUnixTimestamp(bucket), {{seconds:UInt64}}) * {{seconds:UInt64}} AS start,
       tupleElement(min(open), 'price'), max(high), min(low), tupleElement(max(close), 'price'),
       sum(volume), sum(trades)
FROM `{minute_candles}`
WHERE run_id = {{run_id:String}} AND interval_s = 60 AND bucket < toDateTime({{cut_s:Int64}}, 'UTC')
GROUP BY symbol, start
ORDER BY symbol, start DESC
LIMIT {{keep:UInt64}} BY symbol
"""

_THROUGH = "SELECT max(log_seq) FROM `{table}` WHERE run_id = {{run_id:String}}"

# Open and close are the first and last trade in log order (the order the daemon applies).
_CANDLES = """
SELECT {venue}, symbol,
       intDiv(toUnixTimestamp64Nano(ts_recv), {{length:UInt64}}) * {{length:UInt64}} AS start,
       argMin(price, (log_seq, ts_recv, sequence)), max(price), min(price),
       argMax(price, (log_seq, ts_recv, sequence)), sum(toUInt64(size)), count()
FROM `{table}`
WHERE run_id = {{run_id:String}} AND log_seq <= {{through:UInt64}}
  AND toUnixTimestamp64Nano(ts_recv) >= {{cut:Int64}}
GROUP BY {venue}, symbol, start
ORDER BY {venue}, symbol, start DESC
LIMIT {{keep:UInt64}} BY {venue}, symbol
"""

_TRADES = """
SELECT {venue}, symbol, toUnixTimestamp64Nano(ts_recv), toUnixTimestamp64Nano(ts_event), price,
       size, {aggressor}, sequence
FROM `{table}`
WHERE run_id = {{run_id:String}} AND log_seq <= {{through:UInt64}}
ORDER BY {venue}, symbol, log_seq DESC, ts_recv DESC, sequence DESC
LIMIT {{keep:UInt64}} BY {venue}, symbol
"""


@dataclass
class Seeded:
    """Per trade event type, the log position its seeded trades stand at."""

    through: dict[type[Event], int] = field(default_factory=dict)
    series: int = 0
    candles: int = 0


def seed_buffers(warehouse: Warehouse, buffers: MarketBuffers, run_id: str) -> Seeded:
    """Fill `buffers` from the run's stored trades."""
    seeded = Seeded()
    for table in TRADE_TABLES:
        if not warehouse.scalar(f"EXISTS TABLE `{table.table}`"):
            continue  # a database not migrated yet holds nothing
        through = warehouse.scalar(_THROUGH.format(table=table.table), {"run_id": run_id})
        if through:
            seeded.through[table.event_type] = int(through)
            _seed_table(warehouse, buffers, run_id, table, int(through), seeded)
    return seeded


def _seed_table(
    warehouse: Warehouse, buffers: MarketBuffers, run_id: str, table: TradeTable, through: int,
    seeded: Seeded,
) -> None:  # fmt: skip
    names = {"table": table.table, "venue": table.venue, "aggressor": table.aggressor,
             "minute_candles": table.minute_candles}  # fmt: skip
    cut, single_venue = 0, ""
    if table.minute_candles:
        sources, latest = warehouse.rows(_SOURCES.format(**names),
                                         {"run_id": run_id, "through": through})[0]  # fmt: skip
        if len(sources) == 1:
            cut, single_venue = latest - latest % _DAY_NS, sources[0]
    for interval, length in buffers.intervals:
        keep = buffers.config.retention[interval]
        by_series: dict[tuple[str, str], list[Candle]] = {}
        if single_venue:
            parameters = {"run_id": run_id, "seconds": length // 1_000_000_000,
                          "cut_s": cut // 1_000_000_000, "keep": keep}  # fmt: skip
            for symbol, start_s, *values in warehouse.rows(
                _MINUTE_CANDLES.format(**names), parameters
            ):
                candle = Candle(int(start_s) * 1_000_000_000, *(int(v) for v in values))
                by_series.setdefault((single_venue, symbol), []).append(candle)
        parameters = {"run_id": run_id, "through": through, "length": length, "keep": keep,
                      "cut": cut}  # fmt: skip
        for venue, symbol, *values in warehouse.rows(_CANDLES.format(**names), parameters):
            by_series.setdefault((venue, symbol), []).append(Candle(*(int(v) for v in values)))
        for (venue, symbol), newest_first in by_series.items():
            candles = sorted(newest_first, key=lambda c: c.start_ns)[-keep:]
            buffers.seed_candles(venue, symbol, interval, candles)
            seeded.candles += len(candles)
    trades: dict[tuple[str, str], list[Trade]] = {}
    parameters = {"run_id": run_id, "through": through, "keep": buffers.config.trades_kept}
    for row in warehouse.rows(_TRADES.format(**names), parameters):
        venue, symbol, ts_recv, ts_event, price, size, aggressor, sequence = row
        trades.setdefault((venue, symbol), []).append(
            Trade(venue, symbol, ts_recv, ts_event, price, size, aggressor, sequence)
        )
    for (venue, symbol), recent in trades.items():
        buffers.seed_trades(venue, symbol, recent[::-1])
    seeded.series += len(trades)
