"""Where a replay's raw events come from: DBN files, a Databento download, a stored run."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from pathlib import Path

import databento_dbn as dbn

from infra.warehouse import MARKET_EVENTS, Warehouse
from ingest.databento.adapter import (
    DatabentoFileSource,
    DatabentoHistoricalSource,
    DbnReadError,
    read_dbn,
)
from ingest.databento.config import DatabentoFileConfig, DatabentoHistoricalConfig
from ingest.merge import merge_canonical
from schemas.events import UNDEF_TIMESTAMP, Event
from schemas.ordering import canonical_sort

Span = tuple[int, int]


def _metadata_span(paths: Sequence[Path]) -> Span | None:
    """The session's (start, end) in ns from the files' metadata, if they say."""
    starts, ends = [], []
    for path in paths:
        try:
            metadata = next(read_dbn(path), None)
        except DbnReadError:
            continue  # the replay itself quarantines the broken file
        if isinstance(metadata, dbn.Metadata):
            starts.append(metadata.start)
            if metadata.end is not None and metadata.end != UNDEF_TIMESTAMP:
                ends.append(metadata.end)
    return (min(starts), max(ends)) if starts and ends else None


def dbn_events(paths: Sequence[Path]) -> tuple[Iterator[Event], Span | None]:
    """The files' events merged in canonical order, and the session span for progress."""
    source = DatabentoFileSource(DatabentoFileConfig(paths=[str(p) for p in paths]))
    return source.iter_events(), _metadata_span(paths)


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
    return merge_canonical(streams), _metadata_span([source.path for source in sources])


def stored_events(warehouse: Warehouse, run_id: str, date: str) -> list[Event]:
    """A stored run's market events of one UTC date, in canonical order."""
    day = dt.date.fromisoformat(date).isoformat()  # a date, not text spliced into SQL
    events: list[Event] = []
    for event_type in MARKET_EVENTS:
        events.extend(
            warehouse.read_events(event_type, run_id=run_id, where=f"toDate(ts_recv) = '{day}'")
        )
    return canonical_sort(events)
