"""Live mode of the synthetic CME market (`synth.cme`): a generated GLBX session paced in
(scaled) real time, its records through the same `RecordNormaliser` as Databento's GLBX files
and feeds (futures' MBP-10 depth as book events), so the alpha frames of `flowtape up` come
from the path real data takes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ingest.databento.parsing import RecordNormaliser
from ingest.merge import canonical_stream, merge_canonical
from ingest.synthetic.source import PacedSessionSource
from schemas.events import Event
from synth.cme import DEFINITIONS_LEAD_NS, CmeSession, generate_cme_session
from synth.cme_config import CmeConfig
from synth.cme_instruments import NEW_YORK

# The files a live consumer needs: `trades` repeats the trades the MBP files carry.
LIVE_SCHEMAS = ("definition", "mbp-1", "mbp-10")
NS = 1_000_000_000


def cme_session_events(session: CmeSession, normaliser: RecordNormaliser) -> Iterator[Event]:
    """Every event of the session's live files in canonical order (no pacing); the
    definitions first, so every record after them finds its instrument."""
    files = [session.files[schema] for schema in LIVE_SCHEMAS]
    for f in files:
        normaliser.add_metadata(f.metadata(session.date))
    definitions = [e for record in files[0].iter_records() for e in normaliser(record)]
    streams = [
        canonical_stream(
            (e for record in f.iter_records() for e in normaliser(record)),
            source=normaliser.source,
        )
        for f in files[1:]
    ]
    return merge_canonical([definitions, *streams])


def first_record_ns(config: CmeConfig) -> int:
    """When the session's first record (its definitions) is received."""
    date = config.session_date()
    hours, minutes = (int(x) for x in config.start.split(":"))
    start = dt.datetime(date.year, date.month, date.day, hours, minutes, tzinfo=NEW_YORK)
    return int(start.timestamp()) * NS - DEFINITIONS_LEAD_NS


class SyntheticCmeSource(PacedSessionSource[CmeConfig, CmeSession]):
    """A synthetic CME session (CL futures, LO options) as a live source
    (`ingest.synthetic.source.PacedSessionSource`)."""

    name = "synthetic-cme"
    emit_books = True

    def __init__(self, config: CmeConfig | None = None, *, speed: float = 1.0) -> None:
        super().__init__(config or CmeConfig(), speed=speed)

    def generate(self, config: CmeConfig) -> CmeSession:
        return generate_cme_session(config)

    def first_record_ns(self, config: CmeConfig) -> int:
        return first_record_ns(config)

    def session_events(self, session: CmeSession) -> Iterator[Event]:
        return cme_session_events(session, self.normaliser)
