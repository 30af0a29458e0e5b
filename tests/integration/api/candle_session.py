"""Prints of every candle kind over 30 hours, and candles aggregated from them directly.

Option prints of two AAPL contracts and one MSFT contract (MSFT has no equity prints, so a
bare `MSFT` is its options' activity), AAPL equity prints lit and off-exchange, BTC-USDT
trades on two venues and ESZ4 trades. Receive times are drawn at random (seeded) across two
UTC days, with runs of prints sharing one receive time on several publishers, so open and
close depend on the canonical order and not on the insert order (prints are inserted
shuffled).

`direct_candles` is the reference: a GROUP BY toStartOfInterval over the raw print table,
open and close by argMin/argMax of the canonical key, written here apart from the code
under test and from the views.
"""

from __future__ import annotations

import random
from typing import Any

from infra.warehouse import Warehouse
from schemas.cme import CmeTrade
from schemas.events import Event
from tests.kit.crypto import crypto_trade
from tests.kit.events import equity_print, option_print

T0 = 1_705_674_600 * 10**9  # 2024-01-19 14:30 UTC
HOUR = 3_600 * 10**9
SPAN = 30 * HOUR
DOLLAR = 10**9
AAPL_CALL = "AAPL  240119C00190000"
AAPL_PUT = "AAPL  240119P00185000"
MSFT_CALL = "MSFT  240119C00400000"
FUTURE = "ESZ4"
TF_SECONDS = {"1s": 1, "1m": 60, "5m": 300, "1H": 3_600, "4H": 14_400, "1D": 86_400}
_INTERVALS = {"1s": "1 SECOND", "1m": "1 MINUTE", "5m": "5 MINUTE", "1H": "1 HOUR",
              "4H": "4 HOUR", "1D": "1 DAY"}  # fmt: skip


def _times(rng: random.Random, count: int, start: int = T0, span: int = SPAN) -> list[int]:
    """Receive times: most random, some shared by the print before (a tie on ts_recv), a
    cluster inside one second (several prints to a 1 s candle)."""
    times: list[int] = []
    while len(times) < count:
        roll = rng.random()
        if times and roll < 0.15:
            times.append(times[-1])
        elif times and roll < 0.35:
            times.append(times[-1] + rng.randrange(1, 300_000_000))
        else:
            times.append(start + rng.randrange(span))
    return times


def option_prints(rng: random.Random, count: int, *, start: int = T0, span: int = SPAN,
                  sequence0: int = 0) -> list[Event]:  # fmt: skip
    contracts = [(AAPL_CALL, "AAPL", 7), (AAPL_PUT, "AAPL", 8), (MSFT_CALL, "MSFT", 9)]
    out: list[Event] = []
    for i, ts in enumerate(_times(rng, count, start, span)):
        symbol, underlying, instrument = contracts[rng.randrange(3)]
        out.append(option_print(
            ts_recv=ts, ts_event=ts - 100, publisher_id=rng.choice([20, 30, 40]),
            instrument_id=instrument, sequence=sequence0 + i, symbol=symbol,
            underlying=underlying, price=rng.randrange(50, 900) * DOLLAR // 100,
            size=rng.randrange(1, 60),
        ))  # fmt: skip
    return out


def equity_prints(rng: random.Random, count: int, *, start: int = T0, span: int = SPAN,
                  sequence0: int = 0) -> list[Event]:  # fmt: skip
    out: list[Event] = []
    for i, ts in enumerate(_times(rng, count, start, span)):
        dark = rng.random() < 0.3
        out.append(equity_print(
            ts_recv=ts, ts_event=ts - 100, publisher_id=rng.choice([2, 3, 9]), instrument_id=1,
            sequence=sequence0 + i, venue="FINN" if dark else "XNAS", off_exchange=dark,
            price=rng.randrange(18_500, 19_500) * DOLLAR // 100, size=rng.randrange(1, 500),
        ))  # fmt: skip
    return out


def crypto_trades(rng: random.Random, count: int, *, start: int = T0, span: int = SPAN,
                  sequence0: int = 0) -> list[Event]:  # fmt: skip
    venues = [("binance-spot", "binance", 1), ("bybit-spot", "bybit", 2)]
    out: list[Event] = []
    for i, ts in enumerate(_times(rng, count, start, span)):
        venue, source, publisher = venues[rng.randrange(2)]
        out.append(crypto_trade(
            ts_recv=ts, ts_event=ts - 100, publisher_id=publisher, source=source, venue=venue,
            sequence=sequence0 + i, trade_id=str(sequence0 + i),
            price=rng.randrange(29_000, 31_000) * DOLLAR, size=rng.randrange(1, 10**8),
            side=rng.choice(["buy", "sell"]),
        ))  # fmt: skip
    return out


def cme_trades(rng: random.Random, count: int, *, start: int = T0, span: int = SPAN,
               sequence0: int = 0) -> list[Event]:  # fmt: skip
    """Trades of the front E-mini S&P future, ESZ4 (two instrument ids over the days)."""
    out: list[Event] = []
    for i, ts in enumerate(_times(rng, count, start, span)):
        out.append(CmeTrade(
            ts_recv=ts, ts_event=ts - 100, publisher_id=1, instrument_id=rng.choice([5, 6]),
            source="databento", symbol=FUTURE, sequence=sequence0 + i,
            price=rng.randrange(470_000, 480_000) * DOLLAR // 100, size=rng.randrange(1, 30),
            side=rng.choice(["A", "B", "N"]),
        ))  # fmt: skip
    return out


def candle_session(seed: int = 23) -> list[Event]:
    """The whole session, shuffled."""
    rng = random.Random(seed)
    events = [*option_prints(rng, 400), *equity_prints(rng, 300), *crypto_trades(rng, 300),
              *cme_trades(rng, 300)]  # fmt: skip
    rng.shuffle(events)
    return events


# (table, key column, canonical order, the kind's own sums) of each kind's reference.
_PREMIUM = "intDiv(toInt128(price) * size, 100000)"
_REFERENCE: dict[str, tuple[str, str, str | None, str]] = {
    "contract": ("option_prints", "symbol", "(ts_recv, publisher_id, instrument_id, sequence)",
                 f"toInt64(sum({_PREMIUM})) AS premium_cents"),
    "underlying": ("option_prints", "underlying", None,
                   f"toInt64(sum({_PREMIUM})) AS premium_cents, "
                   "sumIf(size, match(symbol, 'C[0-9]+$')) AS call_volume, "
                   "sumIf(size, match(symbol, 'P[0-9]+$')) AS put_volume, "
                   f"toInt64(sumIf({_PREMIUM}, match(symbol, 'C[0-9]+$'))) AS call_premium_cents, "
                   f"toInt64(sumIf({_PREMIUM}, match(symbol, 'P[0-9]+$'))) AS put_premium_cents"),
    "equity": ("equity_prints", "symbol", "(ts_recv, publisher_id, instrument_id, sequence)",
               "sumIf(size, off_exchange) AS off_exchange_volume"),
    "crypto": ("crypto_trades", "symbol", "(ts_recv, publisher_id, instrument_id, sequence)",
               ""),
    "future": ("cme_trades", "symbol", "(ts_recv, publisher_id, instrument_id, sequence)", ""),
}  # fmt: skip


def direct_candles(
    warehouse: Warehouse, kind: str, key: str, tf: str, run_id: str = "live",
    max_log_seq: int | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The candles of `key` aggregated straight from its raw print table, oldest first."""
    table, column, order, extra = _REFERENCE[kind]
    ohlc = (
        f"argMin(price, {order}) AS open, max(price) AS high, min(price) AS low, "
        f"argMax(price, {order}) AS close, "
        if order
        else "NULL AS open, NULL AS high, NULL AS low, NULL AS close, "
    )
    bound = "" if max_log_seq is None else f"AND log_seq <= {int(max_log_seq)}"
    sql = (
        f"SELECT toInt64(toUnixTimestamp(toStartOfInterval(ts_recv, INTERVAL {_INTERVALS[tf]})))"  # noqa: S608  (test's own names)
        f" * 1000000000 AS start_ns, {ohlc} toInt64(sum(size)) AS volume, count() AS trades"
        f"{', ' + extra if extra else ''} FROM {table} WHERE run_id = {{run_id:String}} "
        f"AND {column} = {{key:String}} {bound} GROUP BY start_ns ORDER BY start_ns"
    )
    result = warehouse.client.query(sql, parameters={"run_id": run_id, "key": key})
    names = list(result.column_names)
    return [
        {n: (None if v is None else int(v)) for n, v in zip(names, row, strict=True)}
        for row in result.result_rows
    ]
