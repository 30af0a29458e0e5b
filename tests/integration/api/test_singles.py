"""A lone print has no packet row, yet the API answers for its single as the engine made it."""

from __future__ import annotations

from typing import Any

import compute.flow as flow
from api.singles import FIRST_SPAN_NS
from api.store import MAX_LIMIT, PACKETS, Filters, Store
from api.views import plain
from infra.warehouse import Warehouse
from replay.driver import replay_events
from schemas.events import Alert, ClassifierHit, Event, FlowPacket
from tests.integration.live.sessions import session_events

RUN = "singles"
# What only the engine knew when it closed the packet: not kept for a lone print.
UNKNOWN_LEG_TERMS = ("moneyness", "dte", "day_volume", "open_interest")


def _engine_outputs(events: list[Event]) -> list[Event]:
    state = flow.initial_state(flow.EngineConfig(), RUN)
    state, outputs = flow.step(state, events)
    _, closing = flow.finish(state)
    return [*outputs, *closing]


def _as_read_back(packet: FlowPacket) -> dict[str, Any]:
    view: dict[str, Any] = plain(packet)
    view.pop("members")
    view["spot_px"] = view["spot_px_dollars"] = None
    for name in UNKNOWN_LEG_TERMS:
        view["legs"][0][name] = None
    return view


def test_lone_prints_read_back_as_the_singles_the_engine_emitted(
    fresh_warehouse: Warehouse,
) -> None:
    events = session_events(23)
    outputs = _engine_outputs(events)
    flagged = {e.packet_id for e in outputs if isinstance(e, ClassifierHit | Alert)}
    singles = {
        e.packet_id: e
        for e in outputs
        if isinstance(e, FlowPacket) and e.kind == "single" and e.packet_id not in flagged
    }
    assert len(singles) > 100
    replay_events(events, run_id=RUN, config=flow.EngineConfig(), warehouse=fresh_warehouse)
    every_single = {
        e.packet_id for e in outputs if isinstance(e, FlowPacket) and e.kind == "single"
    }
    stored = fresh_warehouse.scalar(
        "SELECT countIf(kind = 'single') FROM flow_packets WHERE run_id = {r:String}", {"r": RUN}
    )
    assert stored == len(every_single & flagged)  # flagged singles keep their row

    listed = Store(fresh_warehouse).latest(
        PACKETS, Filters(run_id=RUN, kind="single", limit=MAX_LIMIT)
    )
    lone = [view for view in listed if view["packet_id"] not in flagged]
    assert len(lone) == min(len(singles), MAX_LIMIT)
    for view in lone:
        view.pop("log_seq")
        assert view == _as_read_back(singles[view["packet_id"]])


def _lone_singles(outputs: list[Event]) -> list[FlowPacket]:
    flagged = {e.packet_id for e in outputs if isinstance(e, ClassifierHit | Alert)}
    return [
        e
        for e in outputs
        if isinstance(e, FlowPacket) and e.kind == "single" and e.packet_id not in flagged
    ]


def test_a_singles_evidence_is_found_by_its_id_alone(fresh_warehouse: Warehouse) -> None:
    events = session_events(23)
    singles = _lone_singles(_engine_outputs(events))
    # the newest is found in the run's last minute, the oldest only in a longer span before it
    newest, oldest = singles[-1], singles[0]
    assert newest.ts_start - oldest.ts_start > FIRST_SPAN_NS
    replay_events(events, run_id=RUN, config=flow.EngineConfig(), warehouse=fresh_warehouse)

    for single in (newest, oldest):
        evidence = Store(fresh_warehouse).packet_evidence(RUN, single.packet_id)  # none listed

        assert evidence is not None and evidence["hits"] == evidence["alerts"] == []
        packet = evidence["packet"]
        [member] = packet.pop("members")
        packet.pop("log_seq")
        assert packet == _as_read_back(single)
        [expected] = single.members
        assert {k: member[k] for k in plain(expected)} == plain(expected)
        assert member["ts_recv"] == single.ts_recv and member["symbol"] == single.legs[0].symbol
    assert Store(fresh_warehouse).packet_evidence(RUN, "0" * 32) is None


def test_a_singles_moment_finds_it_there_and_nowhere_else(fresh_warehouse: Warehouse) -> None:
    events = session_events(23)
    single = _lone_singles(_engine_outputs(events))[0]
    replay_events(events, run_id=RUN, config=flow.EngineConfig(), warehouse=fresh_warehouse)
    moment = single.ts_start // 1_000_000
    # a JSON double rounds ns to 256: its ms may be one off, either way
    for ms in (moment - 1, moment, moment + 1):
        evidence = Store(fresh_warehouse).packet_evidence(RUN, single.packet_id, ms)
        assert evidence is not None and evidence["packet"]["packet_id"] == single.packet_id
    for ms in (moment - 3, moment + 3):
        assert Store(fresh_warehouse).packet_evidence(RUN, single.packet_id, ms) is None


def test_playback_pages_through_stored_packets_and_singles_once_each_in_order(
    fresh_warehouse: Warehouse,
) -> None:
    events = session_events(23)
    outputs = _engine_outputs(events)
    replay_events(events, run_id=RUN, config=flow.EngineConfig(), warehouse=fresh_warehouse)
    store = Store(fresh_warehouse)
    seen: list[tuple[int, str]] = []
    after: tuple[int, str] | None = None
    while page := store.page(PACKETS, Filters(run_id=RUN), after, 700):
        seen += [(time, packet_id) for time, packet_id, _ in page]
        after = seen[-1]
    assert seen == sorted(seen)
    assert sorted(packet_id for _, packet_id in seen) == sorted(
        e.packet_id for e in outputs if isinstance(e, FlowPacket)
    )
