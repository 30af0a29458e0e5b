"""A run's outputs as scoring sees them, from the engine's derived events."""

from __future__ import annotations

from analytics.run_outputs import DarkPoolRow, HitRow, InferredSide, PacketRow, RunOutputs
from tests.kit.derived import (
    classifier_hit,
    darkpool_event,
    flow_packet,
    member,
    print_inference,
)
from tests.kit.events import option_print


def test_derived_events_become_rows_keyed_by_print_and_raw_events_are_ignored() -> None:
    legs = [member(), member(instrument_id=8, sequence=2)]
    dark = [member(instrument_id=1, publisher_id=40, ts_event=950, sequence=3, side="unknown")]
    events = [
        option_print(),
        print_inference(side="sell", bucket="B", rule="tick", nbbo_status="stale"),
        flow_packet(kind="multi_leg", structure="vertical", members=legs),
        classifier_hit(rule="golden_sweep", members=legs),
        darkpool_event(kind="distribution", prints=dark),
    ]
    first, second = (7, 20, 900, 1), (8, 20, 900, 2)
    assert RunOutputs.from_events(events) == RunOutputs(
        inferences={first: InferredSide("sell", "B", "tick", "stale")},
        packets=[PacketRow("multi_leg", "vertical", frozenset({first, second}))],
        hits=[HitRow("golden_sweep", frozenset({first, second}))],
        darkpool=[DarkPoolRow("distribution", frozenset({(1, 40, 950, 3)}))],
    )
