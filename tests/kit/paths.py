"""A synthetic session through the engine the two ways a replay feeds it: OPRA `tcbbo` (the
NBBO on each print) and `trades` joined to the `cmbp-1` change stream."""

from __future__ import annotations

from collections.abc import Iterable

from compute.flow import EngineConfig
from compute.flow.kernel_engine import KernelEngine
from ingest.databento.parsing import RecordNormaliser
from ingest.merge import canonical_stream, merge_canonical
from ingest.synthetic.source import session_events
from schemas.events import Event
from synth import SyntheticSession


def run_engine(events: list[Event]) -> list[Event]:
    """Every output of the kernel engine (the path replay and live run) over `events`,
    session finished, as the struct engine's events."""
    engine = KernelEngine.new(EngineConfig(), "accuracy")
    return engine.step_events(events) + engine.step_events([], finish=True)


def tcbbo_events(session: SyntheticSession) -> list[Event]:
    return list(session_events(session, RecordNormaliser("synthetic")))


def trades_and_cmbp1(session: SyntheticSession) -> list[Event]:
    names = ("definition", "statistics", "cmbp-1", "trades")
    files = [session.file("OPRA.PILLAR", name) for name in names]
    normaliser = RecordNormaliser("synthetic")
    for f in files:
        normaliser.add_metadata(f.metadata(session.date))

    def events(f: object) -> Iterable[Event]:
        for record in f.iter_records():  # type: ignore[attr-defined]
            yield from normaliser(record)

    streams = [canonical_stream(events(f), source="accuracy") for f in files]
    return list(merge_canonical(streams))
