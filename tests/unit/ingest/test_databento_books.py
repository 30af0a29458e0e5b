"""MBO and MBP-10 records become venue events: grouped up to F_LAST in feed order, one file's
events never closed by another's, bad records quarantined, nothing emitted unless asked."""

from __future__ import annotations

import asyncio
from pathlib import Path

import databento as db
import databento_dbn as dbn

from ingest.databento import (
    DatabentoLiveConfig,
    DatabentoLiveSource,
    RecordNormaliser,
    iter_file_events,
)
from schemas.book import MboEvent, Mbp10Event
from schemas.events import Quarantined
from synth.book import generate_book_session
from synth.book_dbn import write_book_dbn
from tests.unit.ingest.dbn_files import T0, metadata, write_dbn

GLBX = 1
ES, NQ = 5482, 5483


def mbo(iid: int, ts_recv: int, action: str, side: str, price: int, size: int, order_id: int,
        flags: int = 0, sequence: int = 7) -> dbn.MBOMsg:  # fmt: skip
    return dbn.MBOMsg(
        publisher_id=GLBX, instrument_id=iid, ts_event=ts_recv - 100, order_id=order_id,
        price=price, size=size, action=dbn.Action(action), side=dbn.Side(side),
        ts_recv=ts_recv, flags=flags, channel_id=0, sequence=sequence,
    )  # fmt: skip


def cme_file(path: Path, records: list[object]) -> Path:
    meta = metadata({"ESH5": ES, "NQH5": NQ}, dataset="GLBX.MDP3", schema=dbn.Schema.MBO)
    return write_dbn(path, meta, records)


def test_records_up_to_f_last_are_one_event_in_feed_order_per_instrument(tmp_path: Path) -> None:
    # One packet: ES trade, NQ add interleaved, ES fill and cancel (F_LAST), NQ add (F_LAST).
    path = cme_file(tmp_path / "a.mbo.dbn.zst", [
        mbo(ES, T0, "A", "A", 100, 5, 1, dbn.F_LAST, sequence=6),
        mbo(ES, T0 + 10, "T", "B", 100, 2, 0),
        mbo(NQ, T0 + 10, "A", "B", 90, 1, 2),
        mbo(ES, T0 + 10, "F", "A", 100, 2, 1),
        mbo(ES, T0 + 10, "C", "A", 100, 2, 1, dbn.F_LAST),
        mbo(NQ, T0 + 10, "A", "B", 89, 1, 3, dbn.F_LAST),
    ])  # fmt: skip
    normaliser = RecordNormaliser(emit_books=True)
    events = list(iter_file_events(path, normaliser=normaliser))
    assert [(type(e), e.symbol, [r.action for r in e.records]) for e in events] == [  # type: ignore[attr-defined]
        (MboEvent, "ESH5", ["A"]),
        (MboEvent, "ESH5", ["T", "F", "C"]),
        (MboEvent, "NQH5", ["A", "A"]),
    ]
    es_trade = events[1]
    assert isinstance(es_trade, MboEvent)
    assert (es_trade.venue, es_trade.ts_recv, es_trade.sequence) == ("GLBX", T0 + 10, 7)
    assert normaliser.counters["MboEvent"] == 3


def test_a_file_ending_inside_an_event_gives_it_up_at_its_end_and_counts_it(
    tmp_path: Path,
) -> None:
    cut = cme_file(tmp_path / "cut.mbo.dbn.zst", [
        mbo(ES, T0, "R", "N", dbn.UNDEF_PRICE, 0, 0, dbn.F_SNAPSHOT),
        mbo(ES, T0, "A", "B", 100, 5, 1, dbn.F_SNAPSHOT),
    ])  # fmt: skip
    other = cme_file(tmp_path / "other.mbo.dbn.zst", [
        mbo(NQ, T0 - 5, "A", "B", 90, 1, 2),  # still open when the first file ends
        mbo(NQ, T0 + 50, "A", "B", 91, 1, 3, dbn.F_LAST),
    ])  # fmt: skip
    normaliser = RecordNormaliser(emit_books=True)
    events = list(iter_file_events([cut, other], normaliser=normaliser))
    assert not [e for e in events if isinstance(e, Quarantined)]
    by_symbol = {e.symbol: e for e in events}  # type: ignore[attr-defined]
    assert [r.price for r in by_symbol["ESH5"].records] == [None, 100]
    # The other file's open event was not flushed into the first file's stream.
    assert [r.price for r in by_symbol["NQH5"].records] == [90, 91]
    assert normaliser.counters["book_event_without_last"] == 1


def test_book_records_are_ignored_unless_asked_for(tmp_path: Path) -> None:
    path = cme_file(tmp_path / "a.mbo.dbn.zst", [mbo(ES, T0, "A", "A", 100, 5, 1, dbn.F_LAST)])
    normaliser = RecordNormaliser()
    assert list(iter_file_events(path, normaliser=normaliser)) == []
    assert normaliser.counters["ignored:MBOMsg"] == 1


def test_an_unmapped_instrument_is_quarantined_with_its_reason(tmp_path: Path) -> None:
    path = cme_file(tmp_path / "a.mbo.dbn.zst", [mbo(999, T0, "A", "A", 100, 5, 1, dbn.F_LAST)])
    (event,) = list(iter_file_events(path, normaliser=RecordNormaliser(emit_books=True)))
    assert isinstance(event, Quarantined) and event.reason == "unmapped_instrument"


def test_a_synthetic_session_written_as_dbn_reads_back_as_the_same_events(
    tmp_path: Path,
) -> None:
    session = generate_book_session(11, 200)
    mbo_path, mbp_path = write_book_dbn(session, tmp_path)
    for path, expected, kind in ((mbo_path, session.mbo, MboEvent),
                                 (mbp_path, session.mbp10, Mbp10Event)):  # fmt: skip
        events = list(iter_file_events(path, normaliser=RecordNormaliser(emit_books=True)))
        assert all(isinstance(e, kind) for e in events)
        assert [e.records for e in events] == [e.records for e in expected]  # type: ignore[attr-defined]
        assert [e.ts_recv for e in events] == [e.ts_recv for e in expected]


async def test_a_live_session_gives_the_file_path_s_events_and_its_unfinished_one_at_the_end(
    shared_data: Path,
) -> None:
    # The CME sample stops inside its snapshot: no record carries F_LAST.
    path = shared_data / "GLBX.MDP3" / "test_data.mbo.dbn.zst"
    config = DatabentoLiveConfig(
        dataset="GLBX.MDP3", schemas=["mbo"], symbols=["ESH1"], emit_books=True
    )
    source = DatabentoLiveSource(config)
    source.attach_loop(asyncio.get_running_loop())
    store = db.DBNStore.from_file(path)
    source.normaliser.add_metadata(store.metadata)
    store.replay(source.on_record)  # the live client's callback, record by record
    source.end_of_stream()
    got = [event async for event in source.events()]
    expected = list(iter_file_events(path, normaliser=RecordNormaliser(emit_books=True)))
    assert got == expected and len(got) == 1 and len(got[0].records) == 4  # type: ignore[attr-defined]
