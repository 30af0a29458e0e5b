"""The book engine runs from the log like the other engines: MBO and MBP-10 DBN files go
through the Databento file source and the ingest service into JetStream (a real server),
come back in log order, and rebuild the true books and trades of their sessions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from compute.book import initial_state, step
from infra.bus import Bus
from ingest.databento import DatabentoFileConfig, DatabentoFileSource
from ingest.service import IngestService
from schemas.book import BookTrade, MboEvent, Mbp10Event
from synth.book import MBP_DEPTH, generate_book_session
from synth.book_dbn import write_book_dbn
from tests.integration.ingest.test_ingest_service import stored_events
from tests.kit.book import l2

pytestmark = pytest.mark.slow


async def test_books_rebuilt_from_the_log_are_the_true_books(bus: Bus, tmp_path: Path) -> None:
    es = generate_book_session(31, 600)
    nq = generate_book_session(32, 600, symbol="NQH1", instrument_id=5483)
    paths = [str(write_book_dbn(s, tmp_path / s.symbol)[0]) for s in (es, nq)]
    config = DatabentoFileConfig(paths=paths, emit_books=True)
    metrics = await IngestService(DatabentoFileSource(config), bus).run()
    assert metrics.events["MboEvent"] == len(es.mbo) + len(nq.mbo)

    events = await stored_events(bus)
    assert all(isinstance(e, MboEvent) for e in events)
    state, trades = step(initial_state(), events)
    for session in (es, nq):
        assert l2(state, session.venue, session.symbol) == session.books[-1]
        placed = [
            (t.ts_recv, t.price, t.size, t.side, t.bid_px, t.ask_px, t.bid_sz, t.ask_sz)
            for t in trades
            if isinstance(t, BookTrade) and t.symbol == session.symbol
        ]
        assert placed == [
            (t.ts_recv, t.price, t.size, t.side, t.bid_px, t.ask_px, t.bid_sz, t.ask_sz)
            for t in session.trades
        ]


async def test_an_mbp10_book_read_from_the_log_is_the_top_of_the_true_book(
    bus: Bus, tmp_path: Path
) -> None:
    session = generate_book_session(33, 400)
    _, mbp = write_book_dbn(session, tmp_path)
    config = DatabentoFileConfig(paths=[str(mbp)], emit_books=True)
    await IngestService(DatabentoFileSource(config), bus).run()
    events = await stored_events(bus)
    assert [type(e) for e in events] == [Mbp10Event] * len(session.mbp10)
    state, _ = step(initial_state(), events)
    bids, asks = session.books[-1]
    assert l2(state, session.venue, session.symbol) == (bids[:MBP_DEPTH], asks[:MBP_DEPTH])


async def test_publishing_book_files_again_after_the_duplicate_window_adds_nothing(
    bus: Bus, tmp_path: Path
) -> None:
    # A repeated MBO event would apply its adds and cancels twice: the ingest service's
    # high-water marks must cover book events as they cover trades.
    session = generate_book_session(34, 300)
    mbo, _ = write_book_dbn(session, tmp_path)
    config = DatabentoFileConfig(paths=[str(mbo)], emit_books=True)
    await bus.ensure_streams(duplicate_window_s=0.5)
    await IngestService(DatabentoFileSource(config), bus).run()
    await asyncio.sleep(1.0)  # past JetStream's duplicate window
    again = await IngestService(DatabentoFileSource(config), bus).run()
    assert again.repeats_skipped == len(session.mbo) and again.published_messages == 0
    state, _ = step(initial_state(), await stored_events(bus))
    assert l2(state, session.venue, session.symbol) == session.books[-1]
