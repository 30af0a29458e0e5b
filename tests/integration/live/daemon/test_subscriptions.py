"""Streaming: candle, trade and book updates, unsubscribe, and resubscribing after a daemon
restart (real JetStream)."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from flowtape.client import AsyncMarketDataClient, IpcError, MarketDataClient
from infra.bus import Bus
from schemas.events import PRICE_SCALE
from schemas.ipc import Candle, CandleUpdate, Level, OrderbookUpdate, TradeUpdate
from schemas.subjects import RAW_STREAM
from tests.integration.live.daemon.running import (
    MIN,
    T0,
    caught_up,
    prints,
    publish,
    quote,
    running_daemon,
)

P = PRICE_SCALE


async def test_candle_trade_and_book_updates_follow_each_batch_until_unsubscribed(
    bus: Bus, socket_path: Path
) -> None:
    async with running_daemon(bus, socket_path) as daemon:
        async with AsyncMarketDataClient(socket_path) as client:
            candles = await client.subscribe_candles("databento", "AAPL", "1m")
            trades = await client.subscribe_trades("databento", "AAPL")
            book = await client.subscribe_orderbook("databento", "AAPL", depth=5)
            await publish(bus, [quote(9 * P, 10 * P), *prints([(0, 10 * P, 2, "B")])])
            await publish(bus, prints([(MIN, 11 * P, 3, "A")]))
            assert await candles.next_update(10) == CandleUpdate(
                id=candles.server_id, candle=Candle(T0, 10 * P, 10 * P, 10 * P, 10 * P, 2, 1),
                closed=False,
            )  # fmt: skip
            closing = [await candles.next_update(10), await candles.next_update(10)]
            seen = [(u.closed, u.candle.start_ns) for u in closing if isinstance(u, CandleUpdate)]
            assert seen == [(True, T0), (False, T0 + MIN)]
            first, second = await trades.next_update(10), await trades.next_update(10)
            assert isinstance(first, TradeUpdate) and isinstance(second, TradeUpdate)
            assert [t.aggressor for t in first.trades + second.trades] == ["buy", "sell"]
            update = await book.next_update(10)
            assert isinstance(update, OrderbookUpdate)
            assert update.book.bids == [Level(9 * P, 3)] and update.book.asks == [Level(10 * P, 4)]
            await trades.close()
            await publish(bus, prints([(MIN + 1, 12 * P, 1, "B")]))
            await caught_up(daemon, bus)
            assert isinstance(await candles.next_update(10), CandleUpdate)
            assert await trades.next_update(0.3) is None


async def test_async_and_blocking_subscriptions_resume_after_a_daemon_restart(
    bus: Bus, socket_path: Path
) -> None:
    first = running_daemon(bus, socket_path)
    daemon = await first.__aenter__()
    client = AsyncMarketDataClient(socket_path, reconnect_timeout_s=20)
    await client.connect()
    subscription = await client.subscribe_trades("databento", "AAPL")
    ready = threading.Event()

    def blocking_updates(count: int) -> list[TradeUpdate]:
        with MarketDataClient(socket_path, reconnect_timeout_s=20) as blocking:
            stream = blocking.subscribe_trades("databento", "AAPL")
            ready.set()
            got = []
            while len(got) < count:
                update = stream.next_update(20)
                assert isinstance(update, TradeUpdate)
                got.append(update)
            return got

    blocking_task = asyncio.create_task(asyncio.to_thread(blocking_updates, 2))
    await asyncio.to_thread(ready.wait, 10)
    await publish(bus, prints([(0, 10 * P, 1, "B")]))
    assert isinstance(await subscription.next_update(10), TradeUpdate)
    await caught_up(daemon, bus)
    await first.__aexit__(None, None, None)  # the daemon stops; its socket goes away
    restart_at = await bus.last_sequence(RAW_STREAM) + 1
    async with running_daemon(bus, socket_path, start_seq=restart_at) as restarted:
        await asyncio.sleep(0.5)  # both clients find the new daemon and subscribe again
        await publish(bus, prints([(MIN, 11 * P, 1, "A")]))
        await caught_up(restarted, bus)
        update = await subscription.next_update(10)
        assert isinstance(update, TradeUpdate) and update.trades[0].price == 11 * P
        blocking = await asyncio.wait_for(blocking_task, 20)
        assert [u.trades[0].price for u in blocking] == [10 * P, 11 * P]
    await client.close()


async def test_a_subscription_fails_with_a_clear_error_when_the_daemon_stays_away(
    bus: Bus, socket_path: Path
) -> None:
    async with running_daemon(bus, socket_path):
        client = AsyncMarketDataClient(socket_path, reconnect_timeout_s=0.5)
        await client.connect()
        subscription = await client.subscribe_candles("databento", "AAPL", "1m")
    with pytest.raises(IpcError, match="no daemon answers") as caught:
        await subscription.next_update(10)
    assert caught.value.code == "connect"
    await client.close()
