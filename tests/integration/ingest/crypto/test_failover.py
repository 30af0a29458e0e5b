"""Failover from Binance to Bybit and back, with loopback servers as the venues."""

import asyncio

from ingest.binance.adapter import BinanceSource
from ingest.bybit.adapter import BybitSource
from ingest.bybit.config import BybitConfig
from ingest.marketdata.clock import ReceiveClock
from ingest.marketdata.failover import FailoverSettings, FailoverSource
from schemas.crypto import CryptoMarketEvent, CryptoTrade, ProviderSwitch
from schemas.events import Event
from tests.integration.ingest.crypto.test_binance_source import SPOT, SPOT_REST, config, servers
from tests.integration.ingest.crypto.test_marketdata_service import wait_for
from tests.kit.crypto_frames import frames
from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply
from tests.unit.ingest.bybit.test_parsing import FIXTURE

SETTINGS = FailoverSettings(
    group="crypto", check_interval_s=0.1, max_silence_s=0.3, bad_checks_to_switch=3,
    good_checks_to_return=5,
)  # fmt: skip
PRIMARY_PACE = Plan(pause_every=20, pause_s=0.01)


async def test_a_dead_primary_fails_over_to_the_backup_and_back_without_repeats() -> None:
    # the venue sends only what was subscribed (no klines)
    primary_server, depth = await servers(SPOT, SPOT_REST, [PRIMARY_PACE], subscribed_only=True)
    backup_server = FramePlayer(
        [f.raw for f in frames(FIXTURE)], [Plan(pause_every=1, pause_s=0.02)], bybit_reply
    )
    await backup_server.start()
    clock = ReceiveClock()
    primary = BinanceSource(
        config(SPOT, primary_server, depth, silence_s=0.2, backoff_max_s=0.1), clock=clock
    )
    backup = BybitSource(
        BybitConfig(symbols=["BTCUSDT", "ETHUSDT"], ws_url=backup_server.url), clock=clock
    )
    failover = FailoverSource(primary, backup, SETTINGS, clock)
    published: list[Event] = []

    async def consume() -> None:
        async for event in failover.events():
            published.append(event)

    def market(source: str, epoch: int) -> list[CryptoMarketEvent]:
        return [
            e for e in published
            if isinstance(e, CryptoMarketEvent) and e.source == source and e.epoch == epoch
        ]  # fmt: skip

    await failover.connect()
    consumer = asyncio.create_task(consume())
    restarted: FramePlayer | None = None
    try:
        await wait_for(lambda: len(market("binance-spot", 0)) >= 300)
        await primary_server.stop()  # the primary's venue dies mid-stream
        checks_at_kill = failover.checks
        await wait_for(lambda: failover.epoch == 1)
        checks_to_switch = failover.checks - checks_at_kill
        await wait_for(lambda: len(market("bybit-linear", 1)) >= 20)
        # slower, so the switch back comes while it still sends what was published before
        slow = Plan(pause_every=4, pause_s=0.01)
        restarted = FramePlayer(primary_server.frames, [slow], subscribed_only=True)
        await restarted.start(port=primary_server.port)  # and sends it all again
        await wait_for(lambda: failover.epoch == 2)
        await wait_for(
            lambda: sum(isinstance(e, CryptoTrade) for e in market("binance-spot", 2)) >= 20
        )
    finally:
        await failover.close()
        consumer.cancel()
        for server in (restarted, backup_server, depth):
            if server is not None:
                await server.stop()

    # within the configured checks: silence must outlast max_silence, then 3 bad checks
    assert checks_to_switch <= 3 + 3 + 2
    switches = [e for e in published if isinstance(e, ProviderSwitch)]
    assert [(s.from_source, s.to_source, s.epoch) for s in switches] == [
        ("binance-spot", "bybit-linear", 1), ("bybit-linear", "binance-spot", 2),
    ]  # fmt: skip
    epoch = 0
    for event in published:  # each event carries the epoch of the provider active then
        if isinstance(event, ProviderSwitch):
            epoch = event.epoch
        elif isinstance(event, CryptoMarketEvent):
            assert event.epoch == epoch
            assert event.source == ("bybit-linear" if epoch == 1 else "binance-spot")
    trades = [(e.venue, e.trade_id) for e in published if isinstance(e, CryptoTrade)]
    assert len(trades) == len(set(trades))  # the replayed primary added no trade twice
    assert failover.marks.repeats > 0
    assert failover.standby_events["CryptoTrade"] > 0
    assert restarted is not None and restarted.connections == 1
