"""The Binance provider against loopback servers playing the recorded frames."""

import asyncio
import json
from collections import Counter
from collections.abc import Callable

from ingest.binance.adapter import BinanceSource
from ingest.binance.config import BinanceConfig
from schemas.crypto import BookUpdate, CryptoTrade, ProviderGap, ProviderHeartbeat
from schemas.events import Event, Quarantined
from tests.kit.crypto_frames import frames, rest_snapshots
from tests.kit.crypto_servers import DepthServer, FramePlayer, Plan

SPOT = "binance-spot-btc-eth-dot.jsonl"
SPOT_REST = "binance-spot-btc-eth-dot.rest-depth.jsonl"
FUTURES = "binance-futures.jsonl"
FUTURES_REST = "binance-futures.rest-depth.jsonl"


def symbols_of(name: str) -> list[str]:
    return sorted({json.loads(f.raw)["data"]["s"] for f in frames(name)})


async def collect(
    source: BinanceSource, until: Callable[[list[Event]], bool], timeout_s: float = 30.0
) -> list[Event]:
    got: list[Event] = []

    async def run() -> None:
        async for event in source.events():
            got.append(event)
            if until(got):
                return

    await source.connect()
    try:
        await asyncio.wait_for(run(), timeout_s)
    finally:
        await source.close()
    return got


async def servers(
    name: str,
    rest: str,
    plans: list[Plan],
    later_ids: dict[str, int] | None = None,
    subscribed_only: bool = False,
) -> tuple[FramePlayer, DepthServer]:
    player = FramePlayer([f.raw for f in frames(name)], plans, subscribed_only=subscribed_only)
    depth = DepthServer(rest_snapshots(rest), later_ids)
    await player.start()
    await depth.start()
    return player, depth


def config(name: str, player: FramePlayer, depth: DepthServer, **extra: object) -> BinanceConfig:
    fields: dict[str, object] = dict(
        symbols=symbols_of(name), ws_url=player.url, depth_url=depth.url, silence_s=0.3,
        backoff_base_s=0.05, backoff_max_s=0.2,
    )  # fmt: skip
    return BinanceConfig(**(fields | extra))  # type: ignore[arg-type]


def expected_book_updates(name: str, rest: str, futures: bool) -> int:
    """Per symbol: the snapshot and every diff the sync rule keeps after it."""
    count = 0
    for symbol, body in rest_snapshots(rest).items():
        last = json.loads(body)["lastUpdateId"]
        count += 1
        for frame in frames(name):
            data = json.loads(frame.raw)["data"]
            if data.get("e") == "depthUpdate" and data["s"] == symbol:
                count += data["u"] >= last if futures else data["u"] > last
    return count


def heard_heartbeat(events: list[Event]) -> bool:
    return isinstance(events[-1], ProviderHeartbeat)


async def test_spot_recording_arrives_whole_with_its_book_synchronised() -> None:
    player, depth = await servers(SPOT, SPOT_REST, [Plan()])
    try:
        source = BinanceSource(config(SPOT, player, depth))
        events = await collect(source, heard_heartbeat)
    finally:
        await player.stop()
        await depth.stop()
    counts = Counter(type(e).__name__ for e in events)
    channels = Counter(json.loads(f.raw)["stream"].split("@", 1)[1] for f in frames(SPOT))
    assert counts["CryptoTrade"] == channels["aggTrade"] == 1910
    assert counts["BookUpdate"] == expected_book_updates(SPOT, SPOT_REST, futures=False)
    assert counts["Quarantined"] == channels["kline_1m"] == 118
    assert {e.reason for e in events if isinstance(e, Quarantined)} == {"unsupported_channel"}
    assert counts["ProviderGap"] == 0
    assert depth.requests == {s: 1 for s in symbols_of(SPOT)}
    heartbeat = events[-1]
    assert isinstance(heartbeat, ProviderHeartbeat)
    assert heartbeat.synthetic and heartbeat.source == "binance-spot"
    assert heartbeat.silence_ns >= 0.3e9
    assert all(a.ts_recv <= b.ts_recv for a, b in zip(events, events[1:], strict=False))
    assert json.loads(player.subscriptions[0])["params"][:2] == [
        "btcusdt@aggTrade",
        "btcusdt@bookTicker",
    ]


async def test_futures_recording_arrives_whole_with_its_book_synchronised() -> None:
    player, depth = await servers(FUTURES, FUTURES_REST, [Plan()])
    try:
        source = BinanceSource(config(FUTURES, player, depth, market="usdm", channels=None))
        events = await collect(source, heard_heartbeat)
    finally:
        await player.stop()
        await depth.stop()
    counts = Counter(type(e).__name__ for e in events)
    assert counts["CryptoTrade"] == 574 and counts["CryptoQuote"] == 3424
    assert counts["BookUpdate"] == expected_book_updates(FUTURES, FUTURES_REST, futures=True)
    assert all(e.symbol.endswith("-PERP") for e in events if isinstance(e, BookUpdate))


async def test_garbage_is_quarantined_and_the_stream_goes_on() -> None:
    plan = Plan(garbage={10: "\x00garbage{", 20: '{"stream": "x@aggTrade", "data": []}'})
    player, depth = await servers(SPOT, SPOT_REST, [plan])
    try:
        events = await collect(BinanceSource(config(SPOT, player, depth)), heard_heartbeat)
    finally:
        await player.stop()
        await depth.stop()
    reasons = Counter(e.reason for e in events if isinstance(e, Quarantined))
    assert reasons == {"unsupported_channel": 118, "malformed_json": 1, "unknown_message": 1}
    assert sum(isinstance(e, CryptoTrade) for e in events) == 1910


async def test_a_closed_connection_is_reconnected_with_a_gap_naming_the_missed_trades() -> None:
    # The second connection resumes 400 frames later: what it skipped is what was missed.
    sent = [json.loads(f.raw)["data"] for f in frames(SPOT)]
    resumed = [d for d in sent[1400:] if d.get("e") == "depthUpdate"]
    later = {s: next(d["U"] - 1 for d in resumed if d["s"] == s) for s in symbols_of(SPOT)}
    last_before = {d["s"]: d["u"] for d in sent[:1000] if d.get("e") == "depthUpdate"}
    plans = [Plan(close_after=1000), Plan(start=1400)]
    player, depth = await servers(SPOT, SPOT_REST, plans, later)
    try:
        source = BinanceSource(config(SPOT, player, depth))
        events = await collect(source, heard_heartbeat)
    finally:
        await player.stop()
        await depth.stop()
    assert player.connections == 2
    gaps = [e for e in events if isinstance(e, ProviderGap)]
    assert gaps[0].reason == "reconnect" and gaps[0].symbol == ""
    trades_by_symbol: dict[str, list[int]] = {}
    for data in sent[:1000] + sent[1400:]:
        if data.get("e") == "aggTrade":
            trades_by_symbol.setdefault(data["s"], []).append(data["a"])
    trade_gaps = {
        g.symbol: (g.first_missed, g.last_missed) for g in gaps[1:] if "trade" in g.detail
    }
    for symbol, ids in trades_by_symbol.items():
        jump = [(a + 1, b - 1) for a, b in zip(ids, ids[1:], strict=False) if b != a + 1]
        assert trade_gaps.get(symbol.replace("USDT", "-USDT")) == (jump[0] if jump else None)
    book_gaps = {
        g.symbol: (g.reason, g.first_missed, g.last_missed)
        for g in gaps
        if g.detail == "depth update ids"
    }
    assert book_gaps == {
        s.replace("USDT", "-USDT"): ("reconnect", last_before[s] + 1, later[s])
        for s in symbols_of(SPOT)
    }
    assert depth.requests == {s: 2 for s in symbols_of(SPOT)}
    trades = [e for e in events if isinstance(e, CryptoTrade)]
    assert len(trades) == sum(len(v) for v in trades_by_symbol.values())


async def test_a_skipped_depth_diff_is_a_sequence_gap_and_the_book_resyncs() -> None:
    all_frames = frames(SPOT)
    btc_diffs = [i for i, f in enumerate(all_frames) if "btcusdt@depth" in f.raw]
    skipped, after = btc_diffs[200], json.loads(all_frames[btc_diffs[201]].raw)["data"]
    # the venue's later snapshot: the book just before the first diff after the hole
    later = {"BTCUSDT": after["U"] - 1}
    player, depth = await servers(SPOT, SPOT_REST, [Plan(skip=frozenset({skipped}))], later)
    try:
        events = await collect(BinanceSource(config(SPOT, player, depth)), heard_heartbeat)
    finally:
        await player.stop()
        await depth.stop()
    data = json.loads(all_frames[skipped].raw)["data"]
    (gap,) = [e for e in events if isinstance(e, ProviderGap)]
    assert (gap.reason, gap.symbol) == ("sequence_gap", "BTC-USDT")
    assert (gap.first_missed, gap.last_missed) == (data["U"], data["u"])
    btc = [e for e in events if isinstance(e, BookUpdate) and e.symbol == "BTC-USDT"]
    resync = next(i for i, e in enumerate(btc) if e.snapshot and i > 0)
    assert btc[resync + 1].first_update_id == btc[resync].sequence + 1
    assert depth.requests["BTCUSDT"] == 2
    for a, b in zip(btc[resync + 1 :], btc[resync + 2 :], strict=False):
        assert b.first_update_id == a.sequence + 1


async def test_a_stalled_connection_beats_synthetic_heartbeats_then_reconnects() -> None:
    player, depth = await servers(SPOT, SPOT_REST, [Plan(stall_after=50), Plan(start=50)])
    try:
        source = BinanceSource(config(SPOT, player, depth, silence_s=0.1, stall_s=0.35))
        events = await collect(source, lambda got: player.connections == 2 and heard_heartbeat(got))
    finally:
        await player.stop()
        await depth.stop()
    beats = [e for e in events if isinstance(e, ProviderHeartbeat)]
    assert len(beats) >= 3
    assert [b.silence_ns for b in beats[:3]] == sorted(b.silence_ns for b in beats[:3])
    reconnect = next(e for e in events if isinstance(e, ProviderGap))
    assert "stalled" in reconnect.detail


async def test_a_venue_that_is_down_still_beats_heartbeats_while_reconnecting() -> None:
    player, depth = await servers(SPOT, SPOT_REST, [Plan()])
    await player.stop()  # nothing listens on its port any more
    try:
        source = BinanceSource(config(SPOT, player, depth, silence_s=0.1, backoff_max_s=0.3))
        events = await collect(source, lambda got: len(got) >= 4)
    finally:
        await depth.stop()
    assert all(isinstance(e, ProviderHeartbeat) and e.synthetic for e in events)
    silences = [e.silence_ns for e in events if isinstance(e, ProviderHeartbeat)]
    assert silences == sorted(silences) and silences[0] >= 0.1e9
    assert source.feed.errors >= 2 and source.feed.connects == 0
