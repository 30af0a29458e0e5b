"""The options-flow engine as the services run it: the compiled kernel, its state, formatting.

`KernelEngine.step(events)` applies a batch of raw events (canonical order), and
`step_arrow(tables)` one of raw Arrow tables (`schemas.raw_arrow`); both return a
`KernelStep`: the derived tables of `schemas.derived_tables` built from the kernel's rows,
plus the rare outputs as events (classifier hits, alerts, dark-pool events, quarantined
input); `step_events` returns instead exactly the events the struct engine
(`compute.flow.step`, the executable specification) emits for the same batch.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from compute.flow.arrow_columns import ArrowBatch
from compute.flow.columnar import (
    ColumnarState,
    Int64Array,
    KernelOutputs,
    columns_from_events,
    new_state,
    step_columns,
)
from compute.flow.config import EngineConfig
from compute.flow.formatting import KINDS, dark_events, quarantined, to_events
from compute.flow.layout import Q_KIND
from compute.flow.tables import flow_tables
from schemas.events import Event


@dataclass(slots=True)
class KernelStep:
    """One batch's outputs: derived tables (without `run_id` / `log_seq`) and rare events."""

    tables: dict[str, pa.Table]
    events: list[Event]
    prints: int = 0
    packets_by_kind: Counter[str] = field(default_factory=Counter)


class KernelEngine:
    """The kernel engine of one run."""

    def __init__(self, state: ColumnarState) -> None:
        self.state = state
        self.last: KernelOutputs | None = None  # the latest step's rows (for checkpoints)

    @classmethod
    def new(cls, config: EngineConfig, run_id: str) -> KernelEngine:
        return cls(new_state(config, run_id))

    def _run(
        self,
        events: Sequence[Event],
        finish: bool,
        columns: Int64Array | None = None,
        *,
        full: bool = False,
    ) -> KernelOutputs:
        if columns is None:
            columns = columns_from_events(self.state, events)
        self.last = step_columns(self.state, columns, finish=finish, full=full)
        return self.last

    def step(
        self, events: Sequence[Event], *, finish: bool = False, columns: Int64Array | None = None
    ) -> KernelStep:
        """Apply `events`; with `finish`, close everything after them (end of session).
        `columns`: their input columns, when the caller has them already."""
        outputs = self._run(events, finish, columns)
        found = flow_tables(self.state, outputs)
        kinds = np.bincount(outputs.packets[:, Q_KIND], minlength=len(KINDS))
        kinds[KINDS.index("single")] += outputs.quiet_singles
        return KernelStep(
            found.tables,
            [
                *quarantined(self.state, outputs, events),
                *found.hits_and_alerts,
                *dark_events(self.state, outputs),
            ],
            outputs.prints.shape[1],
            Counter({kind: int(n) for kind, n in zip(KINDS, kinds, strict=True) if n}),
        )

    def step_arrow(
        self, tables: Mapping[type[Event], pa.Table], *, finish: bool = False
    ) -> KernelStep:
        """Apply a batch of raw tables (any types, rows in any order: the batch is the
        canonical order of all their rows), as `step` applies the same events."""
        batch = ArrowBatch(self.state, tables)
        return self.step(batch, finish=finish, columns=batch.columns)

    def finish(self) -> KernelStep:
        """Close everything still open (end of session)."""
        return self.step([], finish=True)

    def step_events(self, events: Sequence[Event], *, finish: bool = False) -> list[Event]:
        """Apply `events`; the outputs as the struct engine's events, grouped by type."""
        outputs = self._run(events, finish, full=True)
        return [e for group in to_events(self.state, outputs, events).values() for e in group]
