"""Where a replay's raw events come from: DBN files, a Databento download, a stored run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import databento_dbn as dbn

from infra.warehouse import MARKET_EVENTS, Warehouse
from ingest.databento.adapter import (
    DatabentoHistoricalSource,
    DbnReadError,
    iter_file_events,
    read_dbn,
)
from ingest.databento.config import DatabentoHistoricalConfig
from ingest.databento.parsing import RecordNormaliser
from ingest.merge import merge_canonical
from schemas.events import UNDEF_TIMESTAMP, EquityPrint, Event, OptionPrint
from schemas.ordering import canonical_sort

Span = tuple[int, int]


# Several schemas of one dataset carry the same trades; a session takes its prints from one
# of them, in this order of preference (the first carries the NBBO just before each trade).
PRINT_SCHEMAS = ("tcbbo", "tbbo", "trades", "cmbp-1", "mbp-1")


def _metadata(path: Path) -> dbn.Metadata | None:
    try:
        first = next(read_dbn(path), None)
    except DbnReadError:
        return None  # the replay itself quarantines the broken file
    return first if isinstance(first, dbn.Metadata) else None


def _span(metadata: Sequence[dbn.Metadata]) -> Span | None:
    """The session's (start, end) in ns from the files' metadata, if they say."""
    starts = [m.start for m in metadata]
    ends = [m.end for m in metadata if m.end is not None and m.end != UNDEF_TIMESTAMP]
    return (min(starts), max(ends)) if starts and ends else None


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


def dbn_events(paths: Sequence[Path]) -> tuple[Iterator[Event], Span | None]:
    """The files' events merged in canonical order, and the session span for progress.

    All files share one normaliser (symbology and definitions serve every file); prints
    come from one trade-bearing schema per dataset (`PRINT_SCHEMAS`), quotes from all.
    """
    normaliser = RecordNormaliser("databento")
    keep_prints = print_files(paths)
    streams = []
    for path in paths:
        stream: Iterable[Event] = iter_file_events(path, normaliser=normaliser)
        streams.append(stream if keep_prints[path] else _without_prints(stream))
    metadata = [m for m in (_metadata(p) for p in paths) if m is not None]
    merged = iter(streams[0]) if len(streams) == 1 else merge_canonical(streams)
    return merged, _span(metadata)


def download_events(
    dataset: str, schemas: Sequence[str], symbols: Sequence[str], start: str, end: str,
    cache_dir: Path,
) -> tuple[Iterator[Event], Span | None]:  # fmt: skip
    """`databento.Historical` ranges, one DBN file per schema cached under `cache_dir`
    (a cached file is used as it is, without the network), merged in canonical order."""
    import asyncio

    sources = [
        DatabentoHistoricalSource(
            DatabentoHistoricalConfig(
                dataset=dataset,
                schema=schema,
                symbols=list(symbols),
                start=start,
                end=end,
                download_dir=str(cache_dir),
            )
        )  # fmt: skip
        for schema in schemas
    ]
    for source in sources:
        asyncio.run(source.connect())
    streams = [source.iter_events() for source in sources]
    metadata = [m for m in (_metadata(source.path) for source in sources) if m is not None]
    return merge_canonical(streams), _span(metadata)


def stored_events(warehouse: Warehouse, run_id: str, date: str) -> list[Event]:
    """A stored run's market events of one UTC date, in canonical order."""
    day = dt.date.fromisoformat(date).isoformat()  # a date, not text spliced into SQL
    events: list[Event] = []
    for event_type in MARKET_EVENTS:
        events.extend(
            warehouse.read_events(event_type, run_id=run_id, where=f"toDate(ts_recv) = '{day}'")
        )
    return canonical_sort(events)
