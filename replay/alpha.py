"""CME Globex sessions (`GLBX.MDP3` DBN files) through the alpha engine into ClickHouse.

The files' events (`ingest.databento.cme_file_events`: definitions first, the futures' MBP-10
depth included, an event repeated across files kept once as the ingest service keeps it)
run in canonical order through the same `compute.alpha` engine the live service steps, in
chunks, then `finish`; the raw events and the frames are stored under the run id by the
flow replay's writer (`replay.driver.TableWriter`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import databento_dbn as dbn

from compute.alpha import AlphaConfig, finish, initial_state, step
from infra.warehouse import Warehouse
from ingest.databento import RecordNormaliser, cme_file_events, read_dbn
from ingest.databento.files import DbnReadError
from ingest.databento.symbology import CME_DATASET
from replay.driver import ProgressCallback, ReplaySummary, TableWriter, _counted, chunks


def is_glbx(path: Path) -> bool:
    """Whether the DBN file holds CME Globex data (its metadata's dataset)."""
    try:
        first = next(read_dbn(path), None)
    except DbnReadError:
        return False  # the flow replay reports the broken file
    return isinstance(first, dbn.Metadata) and str(first.dataset) == CME_DATASET


def glbx_paths(paths: Sequence[Path]) -> list[Path]:
    """The CME Globex files among `paths`, in their order."""
    return [path for path in paths if is_glbx(path)]


def replay_alpha(
    paths: Sequence[Path],
    *,
    summary: ReplaySummary,
    config: AlphaConfig,
    warehouse: Warehouse,
    store_raw: bool = True,
    chunk_size: int = 50_000,
    progress: ProgressCallback | None = None,
) -> ReplaySummary:
    """Run the GLBX `paths` through the alpha engine under `summary.run_id`, adding what was
    read and derived to `summary`."""
    started = time.perf_counter()
    events = cme_file_events(paths, normaliser=RecordNormaliser(emit_books=True))
    state = initial_state(config, summary.run_id)
    writer = TableWriter(warehouse, summary.run_id)
    try:
        for batch in _counted(chunks(events, chunk_size), summary, progress):
            frames = step(state, batch)[1]
            if store_raw:
                writer.put(batch)
            writer.put(frames)
            summary.outputs.update(type(frame).__name__ for frame in frames)
        frames = finish(state)[1]
        writer.put(frames)
        summary.outputs.update(type(frame).__name__ for frame in frames)
    finally:
        writer.close()
    summary.wall_s += time.perf_counter() - started
    return summary
