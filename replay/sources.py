"""Where a replay's raw events come from: DBN files, a Databento download, a stored run."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import databento_dbn as dbn
import numpy as np
import pyarrow as pa
import redis
from databento import DBNStore

from compute.flow.checkpoint import restore
from compute.flow.columnar import ColumnarState
from infra.settings import get_settings
from infra.warehouse import MARKET_EVENTS, Warehouse
from ingest.databento.adapter import DatabentoHistoricalSource
from ingest.databento.arrow import (
    COLUMN_SCHEMAS,
    TablesByType,
    column_file_tables,
    events_tables,
    record_path_tables,
)
from ingest.databento.bulk import BULK_SCHEMAS, bulk_file_events, column_readable
from ingest.databento.config import DatabentoHistoricalConfig
from ingest.databento.files import (
    DbnReadError,
    DbnSurvey,
    iter_file_events,
    read_dbn,
    survey_dbn,
)
from ingest.databento.parsing import RecordNormaliser
from ingest.merge import merge_canonical
from replay.table_merge import Chunk, merged_chunks, table_chunks
from replay.window import REFERENCE
from schemas.events import EquityPrint, Event, OptionPrint
from schemas.ordering import canonical_sort

_WEIGHT_CHUNK = 1 << 20  # records decoded at a time when counting them
DOWNLOAD_REPORT_EVERY_S = 0.25

# Told a download's progress: (the schema under way, the bytes on disk so far of all schemas).
DownloadReport = Callable[[str, int], None]

# Several schemas of one dataset carry the same trades; a session takes its prints from one
# of them, in this order of preference (the first carries the NBBO just before each trade).
PRINT_SCHEMAS = ("tcbbo", "tbbo", "trades", "cmbp-1", "mbp-1")
# Schemas whose records become prints and quotes: the files a session's span is measured
# over (definitions and statistics come from before it, bars and order books become nothing).
MARKET_SCHEMAS = frozenset({*PRINT_SCHEMAS, "cbbo-1s", "cbbo-1m", "bbo-1s", "bbo-1m"})


def _metadata(path: Path) -> dbn.Metadata | None:
    try:
        first = next(read_dbn(path), None)
    except DbnReadError:
        return None  # the replay itself quarantines the broken file
    return first if isinstance(first, dbn.Metadata) else None


def print_files(paths: Sequence[Path]) -> dict[Path, bool]:
    """For each file: does the session take its prints from it?"""
    schemas = {path: _schema_name(_metadata(path)) for path in paths}
    chosen: dict[str, str] = {}
    for dataset, schema in schemas.values():
        if schema in PRINT_SCHEMAS:
            best = chosen.get(dataset)
            if best is None or PRINT_SCHEMAS.index(schema) < PRINT_SCHEMAS.index(best):
                chosen[dataset] = schema
    return {
        path: schema not in PRINT_SCHEMAS or chosen.get(dataset) == schema
        for path, (dataset, schema) in schemas.items()
    }


def _schema_name(metadata: dbn.Metadata | None) -> tuple[str, str]:
    if metadata is None or metadata.schema is None:
        return "", ""
    return str(metadata.dataset), str(metadata.schema.value)


def _without_prints(events: Iterable[Event]) -> Iterator[Event]:
    return (e for e in events if not isinstance(e, OptionPrint | EquityPrint))


@dataclass(frozen=True, slots=True)
class SessionSpan:
    """The receive times a session runs from and to (ns): what a progress bar measures."""

    first: int
    last: int

    @classmethod
    def of_files(cls, surveys: Iterable[DbnSurvey | None]) -> SessionSpan:
        """From the first to the last record of any of the files; 0 to 0 when none has
        records."""
        found = [s for s in surveys if s is not None and s.last_ts_recv]
        if not found:
            return cls(0, 0)
        return cls(min(s.first_ts_recv for s in found), max(s.last_ts_recv for s in found))

    @classmethod
    def of_events(cls, events: Sequence[Event]) -> SessionSpan:
        """From the first to the last market event of `events` (canonical order)."""
        market = [e.ts_recv for e in events if not isinstance(e, REFERENCE)]
        return cls(market[0], market[-1]) if market else cls(0, 0)

    def within(self, start: int | None, end: int | None) -> SessionSpan:
        """The part of the span inside a replay's window."""
        first = self.first if start is None else max(self.first, start)
        last = self.last if end is None else min(self.last, end)
        return SessionSpan(first, last) if self.last and first <= last else SessionSpan(0, 0)


@dataclass(frozen=True, slots=True)
class _DbnPlan:
    """How a replay reads its files: the shared normaliser, the definition files (read
    first), per other file whether its prints are kept and whether it goes column-wise."""

    normaliser: RecordNormaliser
    definitions: list[Path]
    keep_prints: dict[Path, bool]
    column_wise: dict[Path, bool]  # trade files the event path decodes column-wise
    column_tables: dict[Path, bool]  # files the table path decodes column-wise
    span: SessionSpan


def _dbn_plan(paths: Sequence[Path]) -> _DbnPlan:
    surveys = {path: survey_dbn(path) for path in paths}
    keep_prints = print_files(paths)
    schemas = {path: _schema_name(_metadata(path))[1] for path in paths}
    definitions = [p for p in paths if schemas[p] == "definition"]
    column_wise = {p: schemas[p] in BULK_SCHEMAS and _whole(surveys[p]) for p in paths}
    column_tables = {p: schemas[p] in COLUMN_SCHEMAS and _whole(surveys[p]) for p in paths}
    market = [surveys[p] for p in paths if schemas[p] in MARKET_SCHEMAS]
    span = SessionSpan.of_files(market)
    normaliser = RecordNormaliser("databento")
    return _DbnPlan(normaliser, definitions, keep_prints, column_wise, column_tables, span)


def dbn_events(paths: Sequence[Path]) -> tuple[Iterator[Event], SessionSpan]:
    """The files' events merged in canonical order, and the span of time they cover.

    All files share one normaliser (symbology and definitions serve every file); prints
    come from one trade-bearing schema per dataset (`PRINT_SCHEMAS`), quotes from all.
    Definition files are read first, so the print files can then be decoded column-wise
    (`bulk_file_events`) without running ahead of the definitions they need. A print file
    cut short goes the record way, which reports where it stops.
    """
    plan = _dbn_plan(paths)
    normaliser = plan.normaliser
    streams: list[Iterable[Event]] = [
        list(iter_file_events(plan.definitions, normaliser=normaliser)) if plan.definitions else []
    ]
    for path in paths:
        if path in plan.definitions:
            continue
        if plan.column_wise[path] and plan.keep_prints[path]:
            streams.append(bulk_file_events(path, normaliser=normaliser))
            continue
        stream = iter_file_events(path, normaliser=normaliser)
        streams.append(stream if plan.keep_prints[path] else _without_prints(stream))
    return merge_canonical(streams), plan.span


def dbn_table_chunks(
    paths: Sequence[Path], rows: int = 250_000
) -> tuple[Iterator[Chunk], SessionSpan]:
    """`dbn_events` as raw Arrow tables (`schemas.raw_arrow`): chunks of about `rows` rows
    (tables by event type), each whole in the canonical order and after the one before, in
    bounded memory (`replay.table_merge`); and the span of time they cover. Trade and
    top-of-book change files are decoded column-wise (`ingest.databento.arrow`), without an
    event object per print or quote."""
    plan = _dbn_plan(paths)
    return _dbn_chunks(plan, paths, rows), plan.span


def _dbn_chunks(plan: _DbnPlan, paths: Sequence[Path], rows: int) -> Iterator[Chunk]:
    normaliser = plan.normaliser
    files: list[Iterable[TablesByType]] = []
    if plan.definitions:
        definitions = list(iter_file_events(plan.definitions, normaliser=normaliser))
        files.append([events_tables(definitions)])
    files += [_file_tables(plan, path) for path in paths if path not in plan.definitions]
    for chunk in merged_chunks(files, rows):
        yield from table_chunks(chunk, rows)


def _file_tables(plan: _DbnPlan, path: Path) -> Iterator[TablesByType]:
    keep = plan.keep_prints[path]
    if plan.column_tables[path]:
        store = DBNStore.from_file(path)
        if column_readable(store):
            yield from column_file_tables(store, plan.normaliser, keep_prints=keep)
            return
    yield record_path_tables(path, plan.normaliser, keep_prints=keep)


def dbn_tables(paths: Sequence[Path]) -> tuple[dict[type[Event], pa.Table], SessionSpan]:
    """`dbn_table_chunks` as one table per event type."""
    chunks, span = dbn_table_chunks(paths)
    parts: TablesByType = {}
    for chunk in chunks:
        for event_type, table in chunk.items():
            parts.setdefault(event_type, []).append(table)
    return {t: pa.concat_tables(tables) for t, tables in parts.items()}, span


def _whole(survey: DbnSurvey | None) -> bool:
    return survey is not None and survey.complete


def underlying_weights(paths: Sequence[Path]) -> dict[str, int]:
    """Records per underlying in the session's print files, by the definitions among
    `paths` (empty without them): what a sharded replay balances its engines by."""
    schemas = {path: _schema_name(_metadata(path))[1] for path in paths}
    underlying: dict[int, str] = {}
    for path in paths:
        if schemas[path] == "definition":
            for array in _arrays(path):
                for iid, name in zip(array["instrument_id"].tolist(),
                                     array["underlying"].tolist(), strict=True):  # fmt: skip
                    underlying[iid] = name.decode()
    weights: Counter[str] = Counter()
    if not underlying:
        return {}
    for path, keep in print_files(paths).items():
        if keep and schemas[path] in PRINT_SCHEMAS:
            for array in _arrays(path):
                ids, counts = np.unique(array["instrument_id"], return_counts=True)
                for iid, count in zip(ids.tolist(), counts.tolist(), strict=True):
                    weights[underlying.get(iid, "")] += count
    return dict(weights)


def _arrays(path: Path) -> Iterator[np.ndarray]:
    """The file's records in column chunks; none past a point it cannot decode (weights only
    balance the work: the replay itself quarantines what is wrong with the file)."""
    try:
        yield from DBNStore.from_file(path).to_ndarray(count=_WEIGHT_CHUNK)
    except Exception:  # noqa: BLE001, S110
        return


def download_events(
    dataset: str, schemas: Sequence[str], symbols: Sequence[str], start: str, end: str,
    cache_dir: Path, on_download: DownloadReport | None = None,
    fetch: Callable[[DatabentoHistoricalConfig, Path], None] | None = None,
) -> tuple[Iterator[Event], SessionSpan]:  # fmt: skip
    """`databento.Historical` ranges, one DBN file per schema cached under `cache_dir`
    (a cached file is used as it is, without the network), merged in canonical order.
    `on_download` is told the bytes on disk as the files arrive (a download's size is not
    known ahead); `fetch` replaces the Databento client (tests)."""
    sources = [
        DatabentoHistoricalSource(
            DatabentoHistoricalConfig(
                dataset=dataset,
                schema=schema,
                symbols=list(symbols),
                start=start,
                end=end,
                download_dir=str(cache_dir),
                api_key=get_settings().databento_api_key,
            ),
            fetch,
        )  # fmt: skip
        for schema in schemas
    ]
    downloaded = 0
    for source in sources:
        asyncio.run(_download(source, downloaded, on_download or _unwatched))
        downloaded += _size(source.path)
    streams = [source.iter_events() for source in sources]
    span = SessionSpan.of_files(survey_dbn(source.path) for source in sources)
    return merge_canonical(streams), span


async def _download(source: DatabentoHistoricalSource, before: int, report: DownloadReport) -> None:
    """Connect `source` (download its file unless cached), reporting `before` plus the bytes
    of its file while they arrive."""
    fetching = asyncio.create_task(source.connect())
    while not fetching.done():
        report(source.config.schema, before + _size(source.partial) + _size(source.path))
        await asyncio.wait([fetching], timeout=DOWNLOAD_REPORT_EVERY_S)
    await fetching
    report(source.config.schema, before + _size(source.path))


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _unwatched(schema: str, size: int) -> None:
    pass


def stored_events(warehouse: Warehouse, run_id: str, date: str) -> list[Event]:
    """A stored run's market events of one UTC date, in canonical order."""
    day = dt.date.fromisoformat(date).isoformat()  # a date, not text spliced into SQL
    events: list[Event] = []
    for event_type in MARKET_EVENTS:
        events.extend(
            warehouse.read_events(event_type, run_id=run_id, where=f"toDate(ts_recv) = '{day}'")
        )
    return canonical_sort(events)


def stored_snapshot(
    redis_url: str, run_id: str, date: str, new_run_id: str
) -> ColumnarState | None:
    """The engine state `run_id` had at the start of `date`, re-homed to `new_run_id` (the
    IDs a replay derives carry its own run id); None when none was saved."""
    client = redis.Redis.from_url(redis_url)
    try:
        data = client.get(f"flowtape:{run_id}:snapshot:{dt.date.fromisoformat(date).isoformat()}")
    finally:
        client.close()
    if data is None:
        return None
    state = restore(data)
    state.run_id = new_run_id
    return state
