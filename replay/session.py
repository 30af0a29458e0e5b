"""The replay use case: a session's events chosen, windowed and run through the engine into
ClickHouse under a run id, with the run registered (`replay_session`)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from compute.alpha import AlphaConfig
from compute.flow import EngineConfig
from compute.flow.columnar import ColumnarState
from infra.runs import delete_run, register_run
from infra.warehouse import Warehouse
from ingest.databento import read_dbn
from ingest.databento.files import survey_dbn
from replay.alpha import glbx_paths, replay_alpha
from replay.driver import ReplaySummary, replay_events, replay_tables
from replay.sources import (
    SessionSpan,
    dbn_events,
    dbn_table_chunks,
    download_events,
    stored_events,
    stored_snapshot,
    underlying_weights,
)
from replay.window import within
from schemas.errors import FlowtapeError
from schemas.events import Event
from schemas.times import parse_time_ns

log = logging.getLogger("flowtape.replay")


class ReplayError(FlowtapeError):
    """A replay asked for with missing or contradictory arguments."""

    code = "replay"


class IncompleteReplay(FlowtapeError):
    """A replay stored what it read, but an input stopped short: the run is incomplete."""

    code = "truncated_dbn"


class ReplayProgress(Protocol):
    """Whoever watches a replay: told its notes, a download's bytes, the span of receive
    times it covers, and each chunk done with the receive time it reached."""

    def note(self, message: str) -> None: ...

    def downloading(self, schema: str, size: int) -> None:
        """A Databento download has `size` bytes on disk so far, `schema` under way."""

    def begin(self, span: SessionSpan) -> None:
        """The events are chosen and run from `span.first` to `span.last` (0 when unknown)."""

    def advance(self, count: int, last_ts_recv: int) -> None: ...


class _Logged:
    """Notes to the log, progress nowhere: a replay nobody watches."""

    def note(self, message: str) -> None:
        log.info(message)

    def downloading(self, schema: str, size: int) -> None:
        pass

    def begin(self, span: SessionSpan) -> None:
        pass

    def advance(self, count: int, last_ts_recv: int) -> None:
        pass


@dataclass(frozen=True, slots=True)
class ReplayRequest:
    """What to replay: DBN files, a stored run's date (`from_run`, `date`) or a Databento
    download (`dataset`, `schemas`, `symbols`, `start`, `end`), in the window `start`..`end`
    (ISO times or nanoseconds). A stored run starts from its saved engine state for that date
    unless `empty_state`; `shards` engine processes share the underlyings."""

    paths: tuple[Path, ...] = ()
    from_run: str | None = None
    date: str | None = None
    dataset: str | None = None
    schemas: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    start: str | None = None
    end: str | None = None
    empty_state: bool = False
    shards: int = 1

    def check(self) -> None:
        """Raise for what cannot be replayed, before any server is needed: `ReplayError`,
        `BadTime` for a bound, `DbnReadError` for a file that is missing or not DBN."""
        parse_time_ns(self.start)
        parse_time_ns(self.end)
        if self.shards < 1:
            raise ReplayError(f"expected at least one engine (shards), got {self.shards}")
        if self.from_run:
            if not self.date:
                raise ReplayError("a stored run is replayed by date: --date YYYY-MM-DD")
            try:
                dt.date.fromisoformat(self.date)
            except ValueError as exc:
                raise ReplayError(f"expected --date YYYY-MM-DD, got {self.date!r}") from exc
        elif self.dataset:
            if not (self.schemas and self.symbols and self.start and self.end):
                raise ReplayError("a download needs --schema, --symbols, --from, --to")
        elif self.paths:
            for path in self.paths:
                _check_dbn(path)
            if (self.start or self.end) and glbx_paths(self.paths):
                raise ReplayError("GLBX sessions are replayed whole: leave out --from and --to")
        else:
            raise ReplayError("give DBN files, --from-run RUN --date D, or --dataset")

    def params(self) -> dict[str, Any]:
        """What the run registry keeps of the request."""
        return {"paths": [str(p) for p in self.paths], "from": self.start, "to": self.end,
                "from_run": self.from_run, "date": self.date, "dataset": self.dataset}  # fmt: skip


def _check_dbn(path: Path) -> None:
    """A file whose DBN metadata cannot be read is no session to replay (a file that breaks
    further on is replayed up to there, its tail quarantined)."""
    # read_dbn raises DbnReadError unless the file starts with its metadata; the reader,
    # dropped at once, closes the file
    next(read_dbn(path), None)


def _default_run_id() -> str:
    return "replay-" + dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S")


def replay_session(
    request: ReplayRequest,
    *,
    warehouse: Warehouse,
    redis_url: str,
    config: EngineConfig,
    cache_dir: Path,
    run_id: str | None = None,
    progress: ReplayProgress | None = None,
    alpha_config: AlphaConfig | None = None,
) -> ReplaySummary:
    """Replay `request` into the (migrated) `warehouse` under `run_id`, replacing whatever
    that run held, and register the run (status `done`, or `incomplete` when an input
    stopped short: `summary.truncated` says which); downloads are cached as DBN files in
    `cache_dir`, saved engine states are read from Redis at `redis_url`. CME Globex files
    (`GLBX.MDP3`) go through the alpha engine instead (`alpha_config`, else its defaults),
    whole."""
    request.check()
    watcher = progress or _Logged()
    run = run_id or _default_run_id()
    start, end = parse_time_ns(request.start), parse_time_ns(request.end)
    params = request.params()
    glbx = glbx_paths(request.paths)
    request = replace(request, paths=tuple(p for p in request.paths if p not in glbx))
    flow_wanted = bool(request.paths) or not glbx
    as_tables = flow_wanted and _as_tables(request)
    if as_tables:
        chunks, span = dbn_table_chunks(request.paths)
    elif flow_wanted:
        events, span, weights = _choose_events(request, warehouse, cache_dir, watcher)
    delete_run(warehouse, run)  # a run id names one result: replaying it replaces it
    register_run(warehouse, run, kind="replay", description="", params=params, status="running")
    summary = ReplaySummary(run_id=run)
    if as_tables:
        watcher.begin(span)
        summary = replay_tables(
            chunks, run_id=run, config=config, warehouse=warehouse, progress=watcher.advance
        )
    elif flow_wanted:
        state, shards = _starting_state(request, redis_url, run, watcher)
        watcher.begin(span.within(start, end))
        summary = replay_events(
            within(events, start, end), run_id=run, config=config, warehouse=warehouse,
            state=state, progress=watcher.advance, shards=shards, weights=weights,
        )  # fmt: skip
    if glbx:
        if not flow_wanted:
            watcher.begin(SessionSpan.of_files(survey_dbn(path) for path in glbx))
        summary = replay_alpha(
            glbx, summary=summary, config=alpha_config or AlphaConfig(), warehouse=warehouse,
            progress=watcher.advance,
        )  # fmt: skip
    status = "incomplete" if summary.truncated else "done"
    register_run(warehouse, run, kind="replay", description="", params=params, status=status)
    return summary


def _as_tables(request: ReplayRequest) -> bool:
    """Whether the replay reads its files as raw Arrow tables (`replay_tables`): DBN files
    replayed whole through one engine."""
    return bool(
        request.paths
        and not (request.from_run or request.dataset or request.start or request.end)
        and request.shards == 1
    )


def _choose_events(
    request: ReplayRequest, warehouse: Warehouse, cache_dir: Path, watcher: ReplayProgress
) -> tuple[Iterable[Event], SessionSpan, dict[str, int] | None]:
    """The events in canonical order, the span they cover, and the underlyings' weights for
    sharded engines (None: balance them without)."""
    if request.from_run and request.date:
        stored = stored_events(warehouse, request.from_run, request.date)
        return stored, SessionSpan.of_events(stored), None
    if request.dataset and request.start and request.end:
        events, span = download_events(
            request.dataset, request.schemas, request.symbols, request.start, request.end,
            cache_dir, on_download=watcher.downloading,
        )  # fmt: skip
        return events, span, None
    events, span = dbn_events(request.paths)
    weights = underlying_weights(request.paths) if request.shards > 1 else None
    return events, span, weights


def _starting_state(
    request: ReplayRequest, redis_url: str, run_id: str, watcher: ReplayProgress
) -> tuple[ColumnarState | None, int]:
    """The engine state to start from (None: an empty one) and the engines to run it in."""
    if not (request.from_run and request.date) or request.empty_state:
        return None, request.shards
    state = stored_snapshot(redis_url, request.from_run, request.date, run_id)
    watcher.note(f"starting from {'the stored' if state else 'an empty'} state")
    if state is not None and request.shards > 1:
        watcher.note("a stored state runs in one engine: --shards ignored")
        return state, 1
    return state, request.shards
