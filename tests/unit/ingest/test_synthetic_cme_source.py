"""The synthetic CME market as a live source: the events of its DBN files, and told where the
log stands it moves to the next session day."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ingest.databento import RecordNormaliser, cme_file_events
from ingest.service import ResumableSource
from ingest.synthetic.cme_source import LIVE_SCHEMAS, SyntheticCmeSource
from schemas.book import Mbp10Event
from schemas.cme import CmeInstrument, CmeQuote, CmeTrade
from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig
from synth.cme_instruments import NEW_YORK

NS = 1_000_000_000


async def test_the_source_gives_the_events_of_its_session_files_read_back(tmp_path: Path) -> None:
    config = CmeConfig(seed=4, minutes=1)
    source = SyntheticCmeSource(config, speed=0)
    live = [event async for event in source.events()]

    written = write_cme_session(generate_cme_session(config), tmp_path)
    files = [p for p in written if any(p.name.endswith(f".{s}.dbn.zst") for s in LIVE_SCHEMAS)]
    assert len(files) == len(LIVE_SCHEMAS)
    normaliser = RecordNormaliser("synthetic-cme", emit_books=True)
    assert live == list(cme_file_events(files, normaliser=normaliser))
    kinds = {type(event) for event in live}
    assert {CmeInstrument, CmeQuote, CmeTrade, Mbp10Event} <= kinds


def test_a_mark_inside_the_session_moves_it_to_the_next_weekday() -> None:
    source = SyntheticCmeSource(CmeConfig(date="2025-02-21"))  # a Friday, open 09:30
    assert isinstance(source, ResumableSource)
    source.resume_after(int(dt.datetime(2025, 2, 20, 16, tzinfo=NEW_YORK).timestamp()) * NS)
    assert source.config.date == "2025-02-21"  # its definitions (08:30) come after the mark
    source.resume_after(int(dt.datetime(2025, 2, 21, 9, 31, tzinfo=NEW_YORK).timestamp()) * NS)
    assert source.config.date == "2025-02-24" and source.session is None
