"""The kernel path's derived tables equal the struct engine's events stored the struct way
(`infra.derived_arrow`), column for column, and so do its hits and alerts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pytest

from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.classifiers import classify
from compute.flow.columnar import columns_from_events, new_state, step_columns
from compute.flow.formatting import packet_event, score_inputs
from compute.flow.kernel_engine import KernelEngine
from compute.flow.layout import PK_BLOCK, Q_KIND, Q_SCORE
from compute.flow.preconditions import may_fire
from infra import derived_arrow
from schemas.events import Alert, ClassifierHit, Event, FlowPacket, PrintInference
from tests.unit.compute.flow.gen import random_splits, seeded
from tests.unit.compute.flow.test_kernel import SHORT_HISTORY, days_session


def struct_tables(
    events: Sequence[Event], cuts: Sequence[int], config: EngineConfig
) -> tuple[dict[str, pa.Table], list[Event]]:
    state = initial_state(config, "tables")
    out: list[Event] = []
    bounds = [0, *cuts, len(events)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        state, batch_out = step(state, events[lo:hi])
        out += batch_out
    state, tail = finish(state)
    out += tail
    packets = [e for e in out if isinstance(e, FlowPacket)]
    kept = [
        packets[i]
        for i in derived_arrow.packets_with_rows(packets, derived_arrow.flagged_packets(out))
    ]
    tables = {
        "print_inference": derived_arrow.print_inference_table(
            [e for e in out if isinstance(e, PrintInference)]
        ),
        "flow_packets": derived_arrow.flow_packets_table(kept),
        "packet_prints": derived_arrow.packet_prints_table(kept),
    }
    return tables, [e for e in out if isinstance(e, ClassifierHit | Alert)]


def kernel_tables(
    events: Sequence[Event], cuts: Sequence[int], config: EngineConfig
) -> tuple[dict[str, pa.Table], list[Event]]:
    engine = KernelEngine.new(config, "tables")
    parts: dict[str, list[pa.Table]] = {}
    rare: list[Event] = []
    bounds = [0, *cuts, len(events)]
    steps = [engine.step(events[lo:hi]) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    for done in [*steps, engine.finish()]:
        for name, table in done.tables.items():
            parts.setdefault(name, []).append(table)
        rare += [e for e in done.events if isinstance(e, ClassifierHit | Alert)]
    schemas = {"print_inference", "flow_packets", "packet_prints"}
    tables = {name: pa.concat_tables(parts[name]) for name in schemas if name in parts}
    return tables, rare


@pytest.mark.parametrize("seed", range(40))
def test_kernel_tables_equal_the_struct_engines_stored_the_struct_way(seed: int) -> None:
    rng = seeded(seed)
    events = days_session(rng, rng.randint(1, 3), rng.randint(50, 300), 0.02)
    config = SHORT_HISTORY if seed % 2 else EngineConfig()
    cuts = random_splits(rng, len(events))
    expected, expected_rare = struct_tables(events, cuts, config)
    got, rare = kernel_tables(events, cuts, config)
    assert expected["print_inference"].num_rows > 0
    for name, table in expected.items():
        found = got.get(name, table.schema.empty_table())
        assert found.schema == table.schema, name
        assert found.equals(table), name
    assert rare == expected_rare


def test_a_packet_the_columns_call_block_only_fires_the_block_rule_alone() -> None:
    """`may_fire(...).block_only` lets the tables skip classifying such packets: checked here
    against the full classification of each packet, on sessions that hold lone blocks and
    blocks that fire more (a low spike bar makes many spike)."""
    config = EngineConfig(
        classifier_spike_min_premium_cents=1, classifier_spike_min_size=1,
        classifier_spike_min_premium_z=0.5, classifier_spike_min_size_z=0.5,
    )  # fmt: skip
    seen = {"block only": 0, "block and more": 0}
    for seed in range(12):
        rng = seeded(seed)
        events = days_session(rng, 2, 300, 0.0)
        state = new_state(config if seed % 2 else EngineConfig(), "blocks")
        for lo in range(0, len(events), 97):
            batch = columns_from_events(state, events[lo : lo + 97])
            outputs = step_columns(state, batch, finish=lo + 97 >= len(events), full=False)
            fire = may_fire(state.config, outputs.packets, outputs.scores)
            for q in np.flatnonzero(outputs.packets[:, Q_KIND] == PK_BLOCK).tolist():
                if outputs.packets[q, Q_SCORE] < 0:
                    continue
                packet = packet_event(state, outputs, q)
                scores = outputs.scores[outputs.packets[q, Q_SCORE]].tolist()
                rules = [hit[0] for hit in classify(state.config, packet, score_inputs(scores))]
                if fire.block_only[q]:
                    seen["block only"] += 1
                    assert rules == ["block"], (seed, q)
                elif rules != ["block"]:
                    seen["block and more"] += 1
    assert seen["block only"] > 20 and seen["block and more"] > 5, seen
