"""Seeding from ClickHouse gives the buffers the stored prints would have built (real
ClickHouse), and the daemon then reads the log right after what was stored."""

from __future__ import annotations

import random

from compute.candles import BufferConfig, MarketBuffers, step, trade_of
from infra.warehouse import Warehouse
from live.daemon.seed import seed_buffers
from schemas.events import PRICE_SCALE
from tests.integration.live.daemon.running import MIN, prints


def test_seeded_candles_and_trades_equal_those_built_from_the_same_prints(
    fresh_warehouse: Warehouse,
) -> None:
    rng = random.Random(5)
    clock, rows = 0, []
    for _ in range(300):
        clock += rng.randrange(0, 3 * MIN)
        rows.append((clock, rng.randrange(90, 110) * PRICE_SCALE, rng.randrange(1, 500),
                     rng.choice("ABN")))  # fmt: skip
    events = prints(rows) + prints(rows[:40], symbol="MSFT")
    stored, later = events[:-10], events[-10:]
    fresh_warehouse.insert_events(stored, run_id="live", log_seq=list(range(1, len(stored) + 1)))
    fresh_warehouse.insert_events(later, run_id="other", log_seq=1)  # another run: not read
    config = BufferConfig(retention={"1m": 5, "15m": 4, "1h": 3}, trades_kept=7)

    seeded = MarketBuffers(config)
    result = seed_buffers(fresh_warehouse, seeded, "live")
    built, _ = step(MarketBuffers(config), [t for e in stored if (t := trade_of(e))])

    assert result.through_seq == len(stored) and result.series == 2
    for symbol in ("AAPL", "MSFT"):
        for interval in ("1m", "15m", "1h"):
            expected = built.candles("databento", symbol, interval, 100)
            assert expected and seeded.candles("databento", symbol, interval, 100) == expected
        assert seeded.trades("databento", symbol, 100) == built.trades("databento", symbol, 100)


def test_an_empty_database_seeds_nothing_and_the_log_is_read_from_its_start(
    fresh_warehouse: Warehouse,
) -> None:
    buffers = MarketBuffers(BufferConfig())
    assert seed_buffers(fresh_warehouse, buffers, "live").through_seq == 0
    assert buffers.series == {}
