"""The kernel's input columns from raw Arrow tables equal those `columns_from_events` builds
from the same events in canonical order, batch after batch (registries and all), and the
kernel then gives the same outputs."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from compute.flow import EngineConfig
from compute.flow.arrow_columns import ArrowBatch, columns_from_arrow
from compute.flow.columnar import ColumnarState, columns_from_events, new_state, step_columns
from compute.flow.formatting import to_events
from compute.flow.kernel_engine import KernelEngine
from infra.warehouse import events_to_arrow
from replay.sources import dbn_events, dbn_tables
from schemas.events import RAW_EVENTS, Event, Quarantined
from schemas.ordering import canonical_sort
from synth.config import SynthConfig, hard_config
from synth.session import generate_session, write_session
from tests.unit.compute.flow.gen import random_splits, seeded
from tests.unit.compute.flow.test_kernel import dark_session, days_session


def raw_tables(events: Sequence[Event]) -> dict[type[Event], pa.Table]:
    """The events as raw tables, one per type (in an order of their own: reversed)."""
    grouped: dict[type[Event], list[Event]] = {}
    for event in reversed(events):
        grouped.setdefault(type(event), []).append(event)
    return {
        t: events_to_arrow(group, run_id="r", log_seqs=[0] * len(group)).drop_columns(
            ["run_id", "log_seq"]
        )
        for t, group in grouped.items()
    }


def assert_same_registries(a: ColumnarState, b: ColumnarState) -> None:
    assert a.instrument_ids == b.instrument_ids
    assert a.names == b.names
    assert a.symbols == b.symbols


def assert_same_run(batches: Sequence[Sequence[Event]], tables: Sequence[dict], cap: int) -> None:
    """Each batch as events and as tables into two kernels: equal columns and outputs."""
    by_events = new_state(EngineConfig(), "arrow", cap)
    by_tables = new_state(EngineConfig(), "arrow", cap)
    for n, (batch, batch_tables) in enumerate(zip(batches, tables, strict=True)):
        expected = columns_from_events(by_events, batch)
        got = columns_from_arrow(by_tables, batch_tables)
        np.testing.assert_array_equal(got, expected)
        assert_same_registries(by_tables, by_events)
        last = n == len(batches) - 1
        out_events = step_columns(by_events, expected, finish=last)
        from_events = to_events(by_events, out_events, batch)
        out_tables = step_columns(by_tables, got, finish=last)
        assert to_events(by_tables, out_tables, batch) == from_events
    assert by_tables.counter_values == by_events.counter_values


def split(events: list[Event], cuts: list[int]) -> list[list[Event]]:
    bounds = [0, *cuts, len(events)]
    return [events[lo:hi] for lo, hi in zip(bounds, bounds[1:], strict=False)]


@pytest.mark.parametrize("seed", range(6))
def test_random_sessions_give_the_columns_of_their_events(seed: int) -> None:
    rng = seeded(seed)
    session = days_session(rng, 2, 150, 0.05) if seed % 2 else dark_session(rng, 300)
    events = canonical_sort([e for e in session if type(e) in RAW_EVENTS])
    batches = split(events, random_splits(rng, len(events)))
    assert_same_run(batches, [raw_tables(batch) for batch in batches], cap=2)


def dbn_batches(paths: list[Path], n: int) -> tuple[list[list[Event]], list[dict]]:
    """The session in `n` batches by receive time, as events and as tables."""
    events = list(dbn_events(paths)[0])
    tables, _ = dbn_tables(paths)
    bounds = np.quantile([e.ts_recv for e in events], np.linspace(0, 1, n + 1)[1:-1])
    cuts = sorted({int(np.searchsorted([e.ts_recv for e in events], b)) for b in bounds})
    batches = split(events, cuts)
    table_batches = []
    for batch in batches:
        lo, hi = batch[0].ts_recv, batch[-1].ts_recv
        part = {}
        for t, table in tables.items():
            ts = np.asarray(table.column("ts_recv").cast(pa.int64()).to_numpy())
            rows = np.flatnonzero((ts >= lo) & (ts <= hi))
            if len(rows):
                part[t] = table.take(pa.array(rows))
        table_batches.append(part)
    return batches, table_batches


@pytest.mark.parametrize(
    "config",
    [SynthConfig(seed=8, minutes=2), hard_config(seed=4, minutes=2, n_underlyings=6)],
    ids=["standard", "hard"],
)
def test_a_synthetic_dbn_session_gives_the_columns_of_its_events(
    config: SynthConfig, tmp_path: Path
) -> None:
    paths = [p for p in write_session(generate_session(config), tmp_path) if p.suffix == ".zst"]
    batches, tables = dbn_batches(paths, 5)
    assert_same_run(batches, tables, cap=64)


def test_the_databento_samples_give_the_columns_of_their_events(shared_data: Path) -> None:
    paths = sorted(shared_data.glob("*/*.dbn.zst"))
    batches, tables = dbn_batches(paths, 3)
    assert_same_run(batches, tables, cap=4)


def test_a_publisher_beyond_the_kernels_range_is_refused_in_one_line() -> None:
    events = canonical_sort(
        [e for e in days_session(seeded(1), 1, 20, 0.0) if type(e) in RAW_EVENTS]
    )
    bad = raw_tables(events)
    first = next(iter(bad))
    table = bad[first]
    if "publisher_id" in table.column_names:
        column = table.schema.get_field_index("publisher_id")
        bad[first] = table.set_column(column, "publisher_id", pa.array([70_000] * table.num_rows))
    with pytest.raises(ValueError, match=r"publisher_id 70000 outside 0\.\.65535"):
        columns_from_arrow(new_state(EngineConfig(), "arrow"), bad)


@pytest.mark.parametrize("seed", range(4))
def test_the_engine_steps_tables_as_it_steps_their_events(seed: int) -> None:
    rng = seeded(100 + seed)
    events = canonical_sort([e for e in days_session(rng, 2, 120, 0.0) if type(e) in RAW_EVENTS])
    by_events = KernelEngine.new(EngineConfig(), "arrow")
    by_tables = KernelEngine.new(EngineConfig(), "arrow")
    quarantined = 0
    for batch in [*split(events, random_splits(rng, len(events))), []]:
        tables = raw_tables(batch)
        assert list(ArrowBatch(new_state(EngineConfig(), "x"), tables)) == batch
        expected = by_events.step(batch, finish=not batch)
        got = by_tables.step_arrow(tables, finish=not batch)
        assert got.events == expected.events
        assert got.tables.keys() == expected.tables.keys()
        for name, table in expected.tables.items():
            assert got.tables[name].equals(table), name
        quarantined += sum(isinstance(e, Quarantined) for e in got.events)
    assert quarantined > 0  # the engine's quarantines carry the events rebuilt from rows
