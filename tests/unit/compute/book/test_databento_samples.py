"""The real Databento samples through ingest and the engine, checked against the records
read directly from the files."""

from __future__ import annotations

from pathlib import Path

import databento as db
import databento_dbn as dbn

from compute.book import initial_state, step, view
from ingest.databento import RecordNormaliser, iter_file_events
from schemas.events import Event
from tests.kit.book import l2


def book_events(path: Path) -> list[Event]:
    return list(iter_file_events(path, normaliser=RecordNormaliser(emit_books=True)))


def test_the_cme_mbo_snapshot_sample_is_loaded_and_marked_as_a_snapshot(shared_data: Path) -> None:
    path = shared_data / "GLBX.MDP3" / "test_data.mbo.dbn.zst"
    raw = list(db.DBNStore.from_file(path))
    assert raw and all(r.flags & dbn.F_SNAPSHOT and r.action == "A" for r in raw)
    expected: dict[int, list[int]] = {}
    for r in raw:
        level = expected.setdefault(r.price, [0, 0])
        level[0] += r.size
        level[1] += 1
    state, trades = step(initial_state(), book_events(path))
    bids = tuple((p, s, c) for p, (s, c) in sorted(expected.items(), reverse=True))
    assert l2(state, "GLBX", "ESH1") == (bids, ())
    shown = view(state, "GLBX", "ESH1", 10)
    # The sample stops inside the snapshot (no record carries F_LAST): loading, not usable.
    assert shown is not None and shown.snapshot and not shown.complete and not shown.usable
    assert trades == []


def test_the_cme_mbp10_sample_gives_its_levels_as_given(shared_data: Path) -> None:
    path = shared_data / "GLBX.MDP3" / "test_data.mbp-10.dbn.zst"
    raw = list(db.DBNStore.from_file(path))
    state = initial_state()
    for event, record in zip(book_events(path), raw, strict=True):
        state, _ = step(state, [event])
        bids = tuple(
            (getattr(record, f"bid_px_{i:02}"), getattr(record, f"bid_sz_{i:02}"),
             getattr(record, f"bid_ct_{i:02}"))
            for i in range(10) if getattr(record, f"bid_px_{i:02}") != dbn.UNDEF_PRICE
        )  # fmt: skip
        asks = tuple(
            (getattr(record, f"ask_px_{i:02}"), getattr(record, f"ask_sz_{i:02}"),
             getattr(record, f"ask_ct_{i:02}"))
            for i in range(10) if getattr(record, f"ask_px_{i:02}") != dbn.UNDEF_PRICE
        )  # fmt: skip
        assert len(bids) == len(asks) == 10
        assert l2(state, "GLBX", "ESH1") == (bids, asks)


def test_nasdaq_mbo_rebuilt_and_its_mbp10_agree_after_every_event(shared_data: Path) -> None:
    # The two samples hold the same four venue events (same receive times and sequences).
    mbo = book_events(shared_data / "XNAS.ITCH" / "test_data.mbo.dbn.zst")
    mbp = book_events(shared_data / "XNAS.ITCH" / "test_data.mbp-10.dbn.zst")
    assert [e.ts_recv for e in mbo] == [e.ts_recv for e in mbp] and len(mbo) == 4
    from_mbo, from_mbp = initial_state(), initial_state()
    for a, b in zip(mbo, mbp, strict=True):
        from_mbo, _ = step(from_mbo, [a])
        from_mbp, _ = step(from_mbp, [b])
        assert l2(from_mbo, "XNAS", "NVDA") == l2(from_mbp, "XNAS", "NVDA")
    px = 1_000_000_000
    assert l2(from_mbo, "XNAS", "NVDA") == (
        ((512_010_000_000, 1, 1), (510_010_000_000, 1, 1), (502 * px, 2, 1)),
        ((539 * px, 17, 1),),
    )
