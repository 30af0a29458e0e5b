"""Seeding from ClickHouse gives the buffers the stored prints would have built (real
ClickHouse), and the daemon then reads the log right after what was stored."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from compute.candles import BufferConfig, Market, MarketBuffers, step, trade_of
from infra.bus import Bus
from infra.warehouse import Warehouse
from live.daemon.config import DaemonSettings
from live.daemon.seed import seed_buffers
from schemas.crypto import CryptoTrade
from schemas.events import PRICE_SCALE, EquityPrint
from tests.integration.live.daemon.running import (
    MIN,
    T0,
    caught_up,
    prints,
    publish,
    quote,
    running_daemon,
)
from tests.kit.crypto import crypto_trade


@pytest.mark.parametrize(
    "retention",
    [{"1m": 5, "15m": 4, "1h": 3}, {"1m": 500, "15m": 100, "1h": 30, "4h": 10}],
    ids=["the last candles only", "candles before the last day too"],
)
def test_seeded_candles_and_trades_equal_those_built_from_the_same_prints(
    fresh_warehouse: Warehouse, retention: dict[str, int]
) -> None:
    rng = random.Random(5)
    clock, rows = 0, []
    for _ in range(300):
        clock += rng.randrange(0, 3 * MIN)
        rows.append((clock, rng.randrange(90, 110) * PRICE_SCALE, rng.randrange(1, 500),
                     rng.choice("ABN")))  # fmt: skip
    events = prints(rows) + prints(rows[:40], symbol="MSFT")
    coins = [
        crypto_trade(
            ts_recv=T0 + ts, ts_event=T0 + ts, price=price, size=size, sequence=i, trade_id=str(i)
        )
        for i, (ts, price, size, _) in enumerate(rows)
    ]
    stored, later = events[:-10], events[-10:]
    fresh_warehouse.insert_events(stored, run_id="live", log_seq=list(range(1, len(stored) + 1)))
    fresh_warehouse.insert_events(later, run_id="other", log_seq=1)  # another run: not read
    fresh_warehouse.insert_events(coins, run_id="live", log_seq=list(range(1, len(coins) + 1)))
    config = BufferConfig(retention=retention, trades_kept=7)

    seeded = MarketBuffers(config)
    result = seed_buffers(fresh_warehouse, seeded, "live")
    built, _ = step(MarketBuffers(config), [t for e in stored + coins if (t := trade_of(e))])

    assert result.through == {EquityPrint: len(stored), CryptoTrade: len(coins)}
    assert result.series == 3
    for venue, symbol in (
        ("databento", "AAPL"),
        ("databento", "MSFT"),
        ("binance-spot", "BTC-USDT"),
    ):
        for interval in retention:
            expected = built.candles(venue, symbol, interval, 1_000)
            assert expected and seeded.candles(venue, symbol, interval, 1_000) == expected
        assert seeded.trades(venue, symbol, 100) == built.trades(venue, symbol, 100)
    day = T0 + 86_400 * 10**9 - T0 % (86_400 * 10**9)  # the day of the last print begins
    earlier = seeded.candles("databento", "AAPL", "1m", 1_000) or []
    assert (retention["1m"] > 300) == any(c.start_ns < day for c in earlier)


def test_an_empty_database_seeds_nothing_and_the_log_is_read_from_its_start(
    fresh_warehouse: Warehouse,
) -> None:
    buffers = MarketBuffers(BufferConfig())
    assert seed_buffers(fresh_warehouse, buffers, "live").through == {}
    assert buffers.series == {}


async def test_a_seeded_daemon_reads_the_whole_log_but_counts_no_stored_trade_twice(
    bus: Bus, fresh_warehouse: Warehouse, socket_path: Path
) -> None:
    rows = [(i * 7 * 10**9, (100 + i % 9) * PRICE_SCALE, 1 + i, "B") for i in range(60)]
    first, second = prints(rows[:35]), prints(rows[35:])
    stored_through = await publish(bus, first)
    await publish(bus, [quote(99 * PRICE_SCALE, 101 * PRICE_SCALE)])
    fresh_warehouse.insert_events(first, run_id="live", log_seq=stored_through)  # as the sink
    await publish(bus, second)
    market = Market(DaemonSettings(seed=False).buffers())
    seeded = seed_buffers(fresh_warehouse, market.buffers, "live")
    async with running_daemon(bus, socket_path, market=market, seeded=seeded.through) as daemon:
        await caught_up(daemon, bus)
        assert daemon.metrics.seeded_skipped == 35
        whole, _ = step(MarketBuffers(DaemonSettings(seed=False).buffers()),
                        [t for e in first + second if (t := trade_of(e))])  # fmt: skip
        for interval in ("1m", "15m", "1h", "4h"):
            assert market.buffers.candles("databento", "AAPL", interval, 10_000) == (
                whole.candles("databento", "AAPL", interval, 10_000)
            )
        assert market.book("databento", "AAPL", 5) is not None  # quotes are read from the start
