"""A seeded market session across a UTC midnight: equity prints and quotes, crypto trades,
quotes and depth updates, published to RAW as ingest does (one type per message)."""

from __future__ import annotations

import datetime as dt
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from infra.bus import Bus
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade
from schemas.events import PRICE_SCALE, EquityPrint, EquityQuote, Event
from schemas.ipc import Candle
from schemas.subjects import raw_subject
from tests.kit.crypto import book_update, crypto_quote, crypto_trade
from tests.kit.events import equity_print, equity_quote

START = 1_700_087_400 * 10**9  # 2023-11-15 22:30 UTC
SECOND = 10**9


def session_messages(seed: int, messages: int, per_message: int = 40) -> list[list[Event]]:
    """`messages` batches spread over three hours of event time."""
    rng = random.Random(seed)
    step = 3 * 3600 * SECOND // (messages * per_message)
    clock, sequence, out = START, 0, []
    kinds = ("print", "quote", "crypto_trade", "crypto_quote", "depth")
    for _ in range(messages):
        kind = rng.choice(kinds)
        batch: list[Event] = []
        for _ in range(per_message):
            clock += rng.randrange(1, 2 * step)
            sequence += 1
            symbol = rng.choice(("AAPL", "MSFT"))
            px = rng.randrange(180, 200) * PRICE_SCALE
            common = dict(ts_recv=clock, ts_event=clock - 1000, sequence=sequence)
            if kind == "print":
                batch.append(
                    equity_print(
                        **common,
                        symbol=symbol,
                        price=px,
                        size=rng.randrange(1, 900),
                        side=rng.choice("ABN"),
                    )
                )
            elif kind == "quote":
                batch.append(
                    equity_quote(**common, symbol=symbol, bid_px=px, ask_px=px + PRICE_SCALE // 100)
                )
            elif kind == "crypto_trade":
                batch.append(
                    crypto_trade(
                        **common,
                        trade_id=str(sequence),
                        price=px * 150,
                        side=rng.choice(("buy", "sell")),
                    )
                )
            elif kind == "crypto_quote":
                batch.append(crypto_quote(**common, bid_px=px * 150, ask_px=px * 150 + 1))
            else:
                batch.append(book_update(**common, first_update_id=sequence))
        out.append(batch)
    return out  # fmt: skip


_SOURCES = {EquityPrint: "databento", EquityQuote: "databento", CryptoTrade: "binance",
            CryptoQuote: "binance", BookUpdate: "binance"}  # fmt: skip


async def publish_session(bus: Bus, messages: list[list[Event]]) -> int:
    last = 0
    for batch in messages:
        kind = type(batch[0])
        last = max(await bus.publish(raw_subject(kind, _SOURCES[kind]), batch, run_id="live"))
    return last


def read_type(root: Path, kind: str) -> list[dict[str, object]]:
    """Every row of one record type, in a fixed order (files may split rows differently)."""
    files = sorted(root.glob(f"date=*/venue=*/type={kind}/part-*.parquet"))
    if not files:
        return []
    rows = pa.concat_tables([pq.read_table(f) for f in files]).to_pylist()
    return sorted(rows, key=lambda r: tuple(str(v) for v in r.values()))


def recorded_candles(root: Path) -> dict[tuple[str, str, str], list[Candle]]:
    """The candles of a recording by (venue, symbol, interval), oldest first."""
    found: dict[tuple[str, str, str], list[Candle]] = {}
    for row in sorted(read_type(root, "candles"), key=lambda r: r["log_seq"]):  # type: ignore[arg-type, return-value]
        start = row["start"]
        assert isinstance(start, dt.datetime) and start.microsecond == 0
        candle = Candle(int(start.timestamp()) * SECOND, row["open"], row["high"], row["low"],  # type: ignore[arg-type]
                        row["close"], row["volume"], row["trades"])  # type: ignore[arg-type]  # fmt: skip
        found.setdefault((row["venue"], row["symbol"], row["interval"]), []).append(candle)  # type: ignore[arg-type]
    return {key: sorted(candles, key=lambda c: c.start_ns) for key, candles in found.items()}
