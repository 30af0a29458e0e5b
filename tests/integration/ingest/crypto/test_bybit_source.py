"""The Bybit provider against a loopback server playing the V5 fixture (not a recording:
see tests/kit/data/README.md)."""

import asyncio
import json
from collections import Counter
from collections.abc import Callable

from ingest.bybit.adapter import BybitSource
from ingest.bybit.config import BybitConfig
from schemas.crypto import BookUpdate, ProviderGap, ProviderHeartbeat
from schemas.events import Event
from tests.kit.crypto_frames import frames
from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply
from tests.unit.ingest.bybit.test_parsing import FIXTURE, expected_counts


async def play(
    plans: list[Plan],
    until: Callable[[list[Event], FramePlayer], bool],
    reply: Callable[[str], str | None] = bybit_reply,
    **extra: object,
) -> tuple[list[Event], FramePlayer]:
    player = FramePlayer([f.raw for f in frames(FIXTURE)], plans, reply=reply)
    await player.start()
    fields: dict[str, object] = dict(
        symbols=["BTCUSDT", "ETHUSDT"], ws_url=player.url, silence_s=0.3, backoff_base_s=0.05,
    )  # fmt: skip
    source = BybitSource(BybitConfig(**(fields | extra)))  # type: ignore[arg-type]
    got: list[Event] = []

    async def run() -> None:
        async for event in source.events():
            got.append(event)
            if until(got, player):
                return

    await source.connect()
    try:
        await asyncio.wait_for(run(), 30)
    finally:
        await source.close()
        await player.stop()
    return got, player


def heartbeat(got: list[Event], player: FramePlayer) -> bool:
    return isinstance(got[-1], ProviderHeartbeat)


async def test_the_fixture_arrives_whole_as_events() -> None:
    events, player = await play([Plan()], heartbeat)
    counts = Counter(type(e).__name__ for e in events)
    assert counts - Counter({"ProviderHeartbeat": counts["ProviderHeartbeat"]}) == expected_counts()
    topics = json.loads(player.subscriptions[0])["args"]
    assert topics[:4] == ["publicTrade.BTCUSDT", "orderbook.1.BTCUSDT", "orderbook.50.BTCUSDT",
                          "tickers.BTCUSDT"]  # fmt: skip


async def test_a_skipped_delta_is_a_gap_and_the_topic_is_subscribed_again() -> None:
    deltas = [i for i, f in enumerate(frames(FIXTURE)) if "orderbook.50.ETHUSDT" in f.raw
              and '"delta"' in f.raw]  # fmt: skip
    skipped = json.loads(frames(FIXTURE)[deltas[10]].raw)["data"]["u"]
    events, player = await play([Plan(skip=frozenset({deltas[10]}))], heartbeat)
    (gap,) = [e for e in events if isinstance(e, ProviderGap)]
    assert (gap.reason, gap.symbol, gap.first_missed, gap.last_missed) == (
        "sequence_gap", "ETH-USDT-PERP", skipped, skipped,
    )  # fmt: skip
    ops = [json.loads(m) for m in player.received]
    assert [(m["op"], m["args"]) for m in ops if m["op"] != "ping"] == [
        ("unsubscribe", ["orderbook.50.ETHUSDT"]), ("subscribe", ["orderbook.50.ETHUSDT"]),
    ]  # fmt: skip
    eth_books = [e for e in events if isinstance(e, BookUpdate) and e.venue_symbol == "ETHUSDT"]
    assert len(eth_books) == 1 + 10  # the snapshot and the deltas before the hole, no more


async def test_a_closed_connection_reconnects_and_keepalives_are_sent() -> None:
    events, player = await play(
        [Plan(close_after=100), Plan(start=150)],
        lambda got, p: p.connections == 2 and heartbeat(got, p) and bool(p.received),
        reply=lambda message: None if "ping" in message else bybit_reply(message),  # no pongs
        keepalive_s=0.1,
    )
    gaps = [e for e in events if isinstance(e, ProviderGap)]
    assert gaps and gaps[0].reason == "reconnect"
    assert any(json.loads(m)["op"] == "ping" for m in player.received)
    assert len(player.subscriptions) == 2
