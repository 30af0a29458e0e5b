"""A run's outputs read back from ClickHouse are the outputs the engine gave."""

from __future__ import annotations

import pytest

from analytics.run_outputs import RunOutputs, UnknownRun, read_run_outputs
from compute.flow import EngineConfig, finish, initial_state, step
from infra.runs import register_run
from infra.warehouse import Warehouse
from ingest.databento.parsing import RecordNormaliser
from ingest.synthetic.source import session_events
from schemas.events import Event
from synth import SynthConfig, generate_session


def engine_outputs(run_id: str) -> list[Event]:
    session = generate_session(SynthConfig(seed=11, minutes=1, n_underlyings=4))
    state = initial_state(EngineConfig(), run_id)
    state, outputs = step(state, list(session_events(session, RecordNormaliser("synthetic"))))
    state, tail = finish(state)
    return outputs + tail


def in_order(outputs: RunOutputs) -> RunOutputs:
    """The same outputs with their lists sorted (tables come back in any order)."""
    return RunOutputs(
        outputs.inferences,
        sorted(outputs.packets, key=lambda p: (p.kind, p.structure, sorted(p.members))),
        sorted(outputs.hits, key=lambda h: (h.rule, sorted(h.members))),
        sorted(outputs.darkpool, key=lambda d: (d.kind, sorted(d.prints))),
    )


def test_stored_outputs_read_back_as_the_engines_outputs(fresh_warehouse: Warehouse) -> None:
    events = engine_outputs("stored")
    fresh_warehouse.insert_events(events, run_id="stored")
    expected = RunOutputs.from_events(events)
    assert expected.inferences and expected.hits and expected.darkpool
    assert any(p.kind == "multi_leg" for p in expected.packets)
    assert in_order(read_run_outputs(fresh_warehouse, "stored")) == in_order(expected)


def test_a_registered_run_without_rows_has_no_outputs(fresh_warehouse: Warehouse) -> None:
    register_run(fresh_warehouse, "empty", kind="replay", description="", params={},
                 status="done")  # fmt: skip
    assert read_run_outputs(fresh_warehouse, "empty") == RunOutputs({}, [], [], [])


def test_an_unknown_run_is_refused(fresh_warehouse: Warehouse) -> None:
    with pytest.raises(UnknownRun, match=r"^\[unknown_run\] no run 'nothing'"):
        read_run_outputs(fresh_warehouse, "nothing")
