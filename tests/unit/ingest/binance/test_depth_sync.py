import json

import msgspec
import pytest

from ingest.binance.depth_sync import DepthSync
from ingest.binance.parsing import BinanceNormaliser
from ingest.marketdata.symbology import default_table
from schemas.crypto import BookUpdate, ProviderGap
from tests.kit.crypto import book_update
from tests.kit.crypto_frames import frames, rest_snapshots

FILES = [
    ("binance-spot.jsonl", "binance-spot.rest-depth.jsonl", "binance-spot"),
    ("binance-spot-btc-eth-dot.jsonl", "binance-spot-btc-eth-dot.rest-depth.jsonl", "binance-spot"),
    ("binance-futures.jsonl", "binance-futures.rest-depth.jsonl", "binance-usdm"),
]


def diffs_of(name: str, venue: str) -> list[BookUpdate]:
    parse = BinanceNormaliser(venue, venue, default_table())
    out = []
    for frame in frames(name):
        if "depthUpdate" in frame.raw:
            (diff,) = parse.frame(frame.raw, frame.recv_ts_ns)
            assert isinstance(diff, BookUpdate)
            out.append(diff)
    return out


@pytest.mark.parametrize(("stream", "rest", "venue"), FILES)
def test_recorded_streams_synchronise_from_their_recorded_snapshots(
    stream: str, rest: str, venue: str
) -> None:
    futures = venue == "binance-usdm"
    parse = BinanceNormaliser(venue, venue, default_table())
    snapshots = {s: parse.snapshot(body, s, 0) for s, body in rest_snapshots(rest).items()}
    syncs = {symbol: DepthSync(futures) for symbol in snapshots}
    published: dict[str, list[BookUpdate]] = {symbol: [] for symbol in snapshots}
    for diff in diffs_of(stream, venue):
        sync = syncs[diff.venue_symbol]
        out = sync.on_diff(diff)
        if sync.needs_snapshot:
            snapshot = snapshots[diff.venue_symbol]
            assert isinstance(snapshot, BookUpdate)
            out = sync.on_snapshot(snapshot)
        assert not any(isinstance(e, ProviderGap) for e in out)
        published[diff.venue_symbol].extend(e for e in out if isinstance(e, BookUpdate))
    for symbol, events in published.items():
        last = json.loads(rest_snapshots(rest)[symbol])["lastUpdateId"]
        # independently: the snapshot, then every diff the rule keeps
        kept = [
            d for d in diffs_of(stream, venue)
            if d.venue_symbol == symbol and (d.sequence >= last if futures else d.sequence > last)
        ]  # fmt: skip
        assert [e.sequence for e in events] == [last] + [d.sequence for d in kept]
        assert events[0].snapshot and not any(e.snapshot for e in events[1:])


def _diff(first: int, last: int, prev: int | None = None, ts: int = 10) -> BookUpdate:
    return book_update(first_update_id=first, sequence=last, prev_update_id=prev, ts_recv=ts)


def _snapshot(last: int, ts: int = 20) -> BookUpdate:
    return book_update(snapshot=True, first_update_id=last, sequence=last, ts_recv=ts)


def test_a_skipped_spot_diff_is_a_gap_with_the_missed_ids_then_a_resync() -> None:
    sync = DepthSync(futures=False)
    assert sync.on_diff(_diff(95, 100)) == []
    out = sync.on_snapshot(_snapshot(97))
    assert [e.sequence for e in out] == [97, 100]
    assert sync.on_diff(_diff(101, 105)) == [_diff(101, 105)]
    (gap,) = sync.on_diff(_diff(111, 115))
    assert isinstance(gap, ProviderGap)
    assert (gap.reason, gap.first_missed, gap.last_missed) == ("sequence_gap", 106, 110)
    assert sync.needs_snapshot
    assert sync.on_diff(_diff(116, 118)) == []
    resynced = sync.on_snapshot(_snapshot(116, ts=30))
    assert [(e.sequence, e.ts_recv) for e in resynced] == [(116, 30), (118, 30)]


def test_a_futures_gap_is_seen_through_pu() -> None:
    sync = DepthSync(futures=True)
    sync.on_diff(_diff(90, 100, prev=89))
    assert [e.sequence for e in sync.on_snapshot(_snapshot(95))] == [95, 100]
    assert sync.on_diff(_diff(103, 110, prev=100)) == [_diff(103, 110, prev=100)]
    (gap,) = sync.on_diff(_diff(130, 140, prev=120))
    assert isinstance(gap, ProviderGap)
    assert (gap.first_missed, gap.last_missed) == (111, 120)


def test_a_snapshot_older_than_the_buffered_stream_is_fetched_again() -> None:
    sync = DepthSync(futures=False)
    sync.on_diff(_diff(200, 210))
    assert sync.on_snapshot(_snapshot(150)) == []
    assert sync.needs_snapshot
    assert [e.sequence for e in sync.on_snapshot(_snapshot(205))] == [205, 210]


def test_after_a_reconnect_the_next_snapshot_reports_the_ids_it_covered() -> None:
    sync = DepthSync(futures=False)
    sync.on_diff(_diff(1, 5))
    sync.on_snapshot(_snapshot(4))
    sync.reconnected()
    sync.on_diff(_diff(50, 60))
    gap, snapshot, diff = sync.on_snapshot(_snapshot(55))
    assert isinstance(gap, ProviderGap)
    assert (gap.reason, gap.first_missed, gap.last_missed) == ("reconnect", 6, 55)
    assert msgspec.structs.astuple(snapshot) == msgspec.structs.astuple(_snapshot(55))
    assert diff.sequence == 60


def test_a_repeated_diff_is_dropped_and_counted() -> None:
    sync = DepthSync(futures=False)
    sync.on_diff(_diff(1, 5))
    sync.on_snapshot(_snapshot(4))
    assert sync.on_diff(_diff(3, 5)) == []
    assert sync.stale_dropped == 1
