"""The daemon answers from what it read on RAW: trades, candles, books (real JetStream)."""

from __future__ import annotations

import asyncio
import logging
import os
import stat
from pathlib import Path

import pytest

from flowtape.client import AsyncMarketDataClient, IpcError, MarketDataClient
from infra.bus import Bus
from schemas.crypto import BookUpdate
from schemas.events import PRICE_SCALE
from schemas.ipc import NOT_FOUND, Candle, Level
from schemas.subjects import raw_subject
from tests.integration.live.daemon.running import (
    MIN,
    T0,
    caught_up,
    prints,
    publish,
    quote,
    running_daemon,
)
from tests.kit.crypto import book_update

P = PRICE_SCALE


async def test_trades_candles_and_books_come_back_as_published(bus: Bus, socket_path: Path) -> None:
    rows = [(0, 10 * P, 5, "B"), (20 * 10**9, 12 * P, 1, "A"), (MIN + 1, 11 * P, 2, "N"),
            (16 * MIN, 9 * P, 7, "B")]  # fmt: skip
    async with running_daemon(bus, socket_path) as daemon:
        await publish(
            bus, [quote(9 * P, 10 * P), *prints(rows), *prints([(0, 50 * P, 1, "B")], "MSFT")]
        )
        await caught_up(daemon, bus)
        async with AsyncMarketDataClient(socket_path) as client:
            trades = await client.get_trades("databento", "AAPL", 3)
            assert [(t.price, t.size, t.aggressor) for t in trades] == [
                (12 * P, 1, "sell"), (11 * P, 2, "unknown"), (9 * P, 7, "buy"),
            ]  # fmt: skip
            assert await client.get_candles("databento", "AAPL", "1m", 10) == [
                Candle(T0, 10 * P, 12 * P, 10 * P, 12 * P, 6, 2),
                Candle(T0 + MIN, 11 * P, 11 * P, 11 * P, 11 * P, 2, 1),
                Candle(T0 + 16 * MIN, 9 * P, 9 * P, 9 * P, 9 * P, 7, 1),
            ]
            quarter = await client.get_candles("databento", "AAPL", "15m", 10)
            start_15 = T0 - T0 % (15 * MIN)  # 22:00; prints at 22:14, 22:15 and 22:30
            assert [c.start_ns for c in quarter] == [start_15 + i * 15 * MIN for i in range(3)]
            batch = await client.get_candles_batch("databento", ["AAPL", "MSFT", "NONE"], "1h", 1)
            assert [len(batch[s]) for s in ("AAPL", "MSFT", "NONE")] == [1, 1, 0]
            assert batch["MSFT"][0].close == 50 * P
            book = await client.get_orderbook("databento", "AAPL", depth=10)
            assert (book.bids, book.asks, book.crossed) == (
                [Level(9 * P, 3)],
                [Level(10 * P, 4)],
                False,
            )

        # The blocking client in a thread of its own (it would block this loop otherwise).
        def read() -> list[Candle]:
            with MarketDataClient(socket_path) as blocking:
                return blocking.get_candles("databento", "AAPL", "4h", 5)

        candles = await asyncio.to_thread(read)
        assert candles == [Candle(T0 - T0 % (240 * MIN), 10 * P, 12 * P, 9 * P, 9 * P, 15, 4)]


async def test_unknown_series_and_intervals_are_not_found_errors(
    bus: Bus, socket_path: Path
) -> None:
    async with running_daemon(bus, socket_path) as daemon:
        await publish(bus, prints([(0, P, 1, "B")]))
        await caught_up(daemon, bus)
        async with AsyncMarketDataClient(socket_path) as client:
            for call in (client.get_candles("databento", "AAPL", "2h", 5),
                         client.get_candles("databento", "ZZZZ", "1m", 5),
                         client.get_trades("binance-spot", "AAPL", 5),
                         client.get_orderbook("databento", "AAPL")):  # fmt: skip
                try:
                    await call
                except IpcError as exc:
                    assert exc.code == NOT_FOUND and str(exc).startswith(f"[{NOT_FOUND}]")
                else:
                    raise AssertionError("expected not_found")
            assert len(await client.get_trades("databento", "AAPL", 5)) == 1


async def test_the_socket_is_private_to_its_owner_by_default(bus: Bus, socket_path: Path) -> None:
    async with running_daemon(bus, socket_path):
        mode = os.stat(socket_path).st_mode
        assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600
    assert socket_path.name not in os.listdir(socket_path.parent)


async def test_depth_books_come_from_the_book_engine_best_first_on_each_side(
    bus: Bus, socket_path: Path
) -> None:
    snapshot = book_update(snapshot=True, sequence=100, first_update_id=100,
                           bid_px=[29_990 * P, 29_999 * P, 29_980 * P], bid_sz=[2, 1, 3],
                           ask_px=[30_010 * P, 30_001 * P], ask_sz=[5, 4])  # fmt: skip
    diff = book_update(sequence=101, first_update_id=101, bid_px=[29_995 * P], bid_sz=[6],
                       ask_px=[30_001 * P], ask_sz=[0])  # fmt: skip
    async with running_daemon(bus, socket_path) as daemon:
        for event in (snapshot, diff):
            await bus.publish(raw_subject(BookUpdate, "binance"), [event], run_id="live")
        await caught_up(daemon, bus)
        async with AsyncMarketDataClient(socket_path) as client:
            book = await client.get_orderbook("binance-spot", "BTC-USDT", depth=3)
            two = await client.get_orderbook("binance-spot", "BTC-USDT", depth=2)
    assert [(lv.price // P, lv.size) for lv in book.bids] == [(29_999, 1), (29_995, 6), (29_990, 2)]
    assert [(lv.price // P, lv.size) for lv in book.asks] == [(30_010, 5)]
    assert book.usable and not book.crossed
    assert [lv.price // P for lv in two.bids] == [29_999, 29_995]


async def test_late_trades_are_kept_out_of_candles_and_reported(
    bus: Bus, socket_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr("live.daemon.service.REPORT_EVERY_S", 0.0)
    caplog.set_level(logging.INFO, logger="live.daemon.service")
    async with running_daemon(bus, socket_path) as daemon:
        await publish(bus, prints([(MIN, 10 * P, 1, "B"), (MIN - 1, 11 * P, 1, "B")]))
        await caught_up(daemon, bus)
        await asyncio.sleep(0.6)  # one more turn of the loop, which reports
        async with AsyncMarketDataClient(socket_path) as client:
            candles = await client.get_candles("databento", "AAPL", "1m", 5)
            trades = await client.get_trades("databento", "AAPL", 5)
    assert [(c.volume, c.trades) for c in candles] == [(1, 1)]
    assert [t.price for t in trades] == [10 * P, 11 * P]
    assert "1 late trades not in candles" in caplog.text
