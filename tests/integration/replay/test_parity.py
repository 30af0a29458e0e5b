"""Live/replay parity: one synthetic session live through JetStream, replayed from its DBN
files and from ClickHouse, derives identical tables; on the standard tape and on the hard one
(complex orders of two to four legs stamped up to 100 µs apart, quiet contracts), whose
option prints come either with their NBBO (`tcbbo`) or from `trades` joined to `cmbp-1`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

import pytest

import compute.flow as flow
from analytics.parity import DERIVED_TABLES, RAW_TABLES, fingerprints
from infra.bus import Bus
from infra.state import StateStore
from infra.warehouse import Warehouse
from ingest.memory import IterableSource
from ingest.service import IngestService
from live.compute_service import ComputeService
from live.sink.service import Sink
from replay.driver import replay_events
from replay.sources import dbn_events, stored_events
from schemas.events import Event
from synth.config import Profile
from tests.conftest import Servers
from tests.integration.live.sessions import dbn_files, session_events

pytestmark = pytest.mark.slow

LATENESS_NS = 3_600 * 10**9  # the session goes through the log far faster than real time
COMPLEX = frozenset({"butterfly", "condor", "ladder", "ratio_spread"})


@dataclass(frozen=True)
class Session:
    seed: int
    minutes: int
    underlyings: int
    profile: Profile
    leave_out: tuple[str, ...]  # schemas whose files the session is read without
    structures: frozenset[str]  # multi-leg structures the live run must find
    statuses: frozenset[str]  # NBBO statuses the live run must show

    def files_and_events(self) -> tuple[list[Path], list[Event]]:
        shape = (self.seed, self.minutes, self.underlyings, self.profile, self.leave_out)
        return dbn_files(*shape), session_events(*shape)


SESSIONS = {
    "standard": Session(21, 2, 6, "standard", (), frozenset(), frozenset({"print"})),
    "hard-tcbbo": Session(5_309, 10, 24, "hard", (), COMPLEX, frozenset({"print"})),
    "hard-trades+cmbp-1": Session(5_309, 10, 24, "hard", ("tcbbo",), COMPLEX,
                                  frozenset({"joined", "held"})),
}  # fmt: skip


@pytest.mark.parametrize("session", SESSIONS.values(), ids=SESSIONS.keys())
async def test_live_and_both_replays_derive_identical_tables(
    session: Session, bus: Bus, servers: Servers, fresh_warehouse: Warehouse
) -> None:
    files, events = session.files_and_events()
    config = flow.EngineConfig()

    # live: ingest -> RAW -> compute -> DERIVED -> sink -> ClickHouse
    await IngestService(IterableSource("databento", events), bus).run()
    store = StateStore.connect(servers.redis_url, "live")
    await store.clear()
    service = ComputeService(bus, store, config, allowed_lateness_ns=LATENESS_NS)
    await service.run(until_idle=True, finish=True)
    await store.clear()
    await store.close()
    await Sink(bus, fresh_warehouse).run_until_idle()

    # replay from the DBN files, and from the live run's raw tables
    replayed, _ = dbn_events(files)
    replay_events(replayed, run_id="replay-dbn", config=config, warehouse=fresh_warehouse)
    day = dt.datetime.fromtimestamp(events[0].ts_recv // 10**9, dt.UTC).date().isoformat()  # type: ignore[attr-defined]
    stored = stored_events(fresh_warehouse, "live", day)
    replay_events(stored, run_id="replay-ch", config=config, warehouse=fresh_warehouse)

    live = fingerprints(fresh_warehouse, "live")
    assert live["print_inference"][0] > 1000 and live["flow_packets"][0] > 100
    assert live["classifier_hits"][0] > 0 and live["alerts"][0] > 0
    assert session.structures <= distinct(fresh_warehouse, "structure", "flow_packets")
    assert session.statuses <= distinct(fresh_warehouse, "nbbo_status", "print_inference")
    if session.profile == "hard":  # singles a classifier flagged: the sink stored them too
        assert "single" in distinct(fresh_warehouse, "kind", "flow_packets")
    assert fingerprints(fresh_warehouse, "replay-dbn") == live
    assert fingerprints(fresh_warehouse, "replay-ch") == live
    raw = fingerprints(fresh_warehouse, "live", RAW_TABLES)
    assert fingerprints(fresh_warehouse, "replay-dbn", RAW_TABLES) == raw
    assert set(DERIVED_TABLES) <= set(live)


def distinct(warehouse: Warehouse, column: str, table: str) -> set[str]:
    """The values of `column` in the live run's rows of `table`."""
    sql = f"SELECT DISTINCT `{column}` FROM `{table}` WHERE run_id = 'live'"  # noqa: S608  (test constants)
    return {value for (value,) in warehouse.rows(sql)}
