"""The Bybit provider against a loopback server playing the V5 fixture (not a recording:
see tests/kit/data/README.md)."""

import asyncio
import json
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal

from ingest.bybit.adapter import BybitSource
from ingest.bybit.config import BybitConfig
from schemas.crypto import SIZE_SCALE, BookUpdate, ProviderGap, ProviderHeartbeat
from schemas.events import PRICE_SCALE, Event
from tests.kit.bybit_player import BybitPlayer
from tests.kit.crypto_frames import frames
from tests.kit.crypto_servers import FramePlayer, Plan, bybit_reply
from tests.unit.ingest.bybit.test_parsing import FIXTURE, expected_counts


async def play(
    plans: list[Plan],
    until: Callable[[list[Event], FramePlayer], bool],
    reply: Callable[[str], str | None] = bybit_reply,
    player: FramePlayer | None = None,
    **extra: object,
) -> tuple[list[Event], FramePlayer]:
    if player is None:
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


Side = dict[int, int]  # price -> size, at PRICE_SCALE and SIZE_SCALE


def scaled(levels: Iterable[Sequence[str]]) -> list[tuple[int, int]]:
    """Bybit's (price, size) strings at flowtape's scales, worked out apart from the parser."""
    return [(int(Decimal(p) * PRICE_SCALE), int(Decimal(s) * SIZE_SCALE)) for p, s in levels]


def fold(updates: list[BookUpdate]) -> tuple[Side, Side]:
    """The book a consumer holds after these events: a snapshot replaces, a diff sets."""
    bids: Side = {}
    asks: Side = {}
    for update in updates:
        for side, prices, sizes in ((bids, update.bid_px, update.bid_sz),
                                    (asks, update.ask_px, update.ask_sz)):  # fmt: skip
            if update.snapshot:
                side.clear()
            for price, size in zip(prices, sizes, strict=True):
                side[price] = size
                if size == 0:
                    del side[price]
    return bids, asks


async def test_a_skipped_delta_is_a_gap_and_the_book_is_resynchronised_from_a_snapshot() -> None:
    deltas = [i for i, f in enumerate(frames(FIXTURE)) if "orderbook.50.ETHUSDT" in f.raw
              and '"delta"' in f.raw]  # fmt: skip
    first_u, skipped, revealing, last_u = (
        json.loads(frames(FIXTURE)[deltas[i]].raw)["data"]["u"] for i in (0, 10, 11, -1)
    )
    # the server waits after the delta that shows the hole until the client subscribes again
    plan = Plan(skip=frozenset({deltas[10]}), hold_at=deltas[11] + 1, hold_for='"subscribe"')
    player = BybitPlayer([f.raw for f in frames(FIXTURE)], [plan])
    events, _ = await play([plan], heartbeat, player=player)

    ops = [json.loads(m) for m in player.received]
    assert [(m["op"], m["args"]) for m in ops if m["op"] != "ping"] == [
        ("unsubscribe", ["orderbook.50.ETHUSDT"]), ("subscribe", ["orderbook.50.ETHUSDT"]),
    ]  # fmt: skip
    (sent,) = [json.loads(s) for s in player.snapshots]
    assert (sent["topic"], sent["data"]["u"]) == ("orderbook.50.ETHUSDT", revealing)

    eth = [e for e in events if isinstance(e, BookUpdate | ProviderGap)
           and e.symbol == "ETH-USDT-PERP"]  # fmt: skip
    before, (gap, fresh, *after) = eth[:11], eth[11:]
    assert [(e.snapshot, e.sequence) for e in before if isinstance(e, BookUpdate)] == [
        (True, first_u - 1),
        *((False, u) for u in range(first_u, skipped)),
    ]  # the first snapshot and the deltas before the hole
    assert isinstance(gap, ProviderGap)
    assert (gap.reason, gap.first_missed, gap.last_missed) == ("sequence_gap", skipped, skipped)
    assert isinstance(fresh, BookUpdate) and fresh.snapshot and fresh.sequence == revealing
    assert list(zip(fresh.bid_px, fresh.bid_sz, strict=True)) == scaled(sent["data"]["b"])
    assert list(zip(fresh.ask_px, fresh.ask_sz, strict=True)) == scaled(sent["data"]["a"])
    diffs = [e for e in after if isinstance(e, BookUpdate) and not e.snapshot]
    assert diffs == after
    assert [e.sequence for e in diffs] == list(range(revealing + 1, last_u + 1))

    venue = player.books[0]["orderbook.50.ETHUSDT"]  # every frame, the skipped one included
    books = [e for e in eth if isinstance(e, BookUpdate)]
    assert fold(books) == (dict(scaled(venue.bids.items())), dict(scaled(venue.asks.items())))


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
