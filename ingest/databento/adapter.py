"""Databento sources: DBN files, `databento.Historical` downloads and `databento.Live`.

All three feed records through one `RecordNormaliser` (ingest.databento.parsing).
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import msgspec
import pandas as pd

from ingest.databento.config import (
    DEFINITION_DATASETS,
    DatabentoFileConfig,
    DatabentoHistoricalConfig,
    DatabentoLiveConfig,
    api_key,
    stype_of,
)
from ingest.databento.files import iter_file_events
from ingest.databento.parsing import RecordNormaliser
from schemas.events import Event

log = logging.getLogger(__name__)


class DatabentoFileSource:
    """DBN files as a `Source`: `async for event in source.events()`."""

    def __init__(self, config: DatabentoFileConfig) -> None:
        self.config = config
        self.name = config.source
        self.normaliser = RecordNormaliser(
            config.source,
            emit_venue_quotes=config.emit_venue_quotes,
            emit_books=config.emit_books,
        )

    async def connect(self) -> None:
        # Nothing to open ahead: a missing or broken file becomes a Quarantined event.
        return None

    async def close(self) -> None:
        return None

    def iter_events(self) -> Iterator[Event]:
        """The synchronous bulk iterator (replay)."""
        return iter_file_events(
            self.config.paths,
            normaliser=self.normaliser,
            reorder_window_ns=self.config.reorder_window_ns,
            chunk_bytes=self.config.chunk_bytes,
        )

    async def events(self) -> AsyncIterator[Event]:
        every = self.config.yield_every
        for index, event in enumerate(self.iter_events(), 1):
            yield event
            if index % every == 0:
                await asyncio.sleep(0)


class DatabentoHistoricalSource:
    """A `databento.Historical` range: downloaded to a DBN file, then read like a file.

    `fetch` may be replaced (tests, pre-downloaded data); by default it calls
    `Historical(key).timeseries.get_range(..., path=...)` with the config's `api_key`.
    """

    def __init__(
        self,
        config: DatabentoHistoricalConfig,
        fetch: Callable[[DatabentoHistoricalConfig, Path], None] | None = None,
    ) -> None:
        self.config = config
        self.name = config.source
        self.normaliser = RecordNormaliser(
            config.source,
            emit_venue_quotes=config.emit_venue_quotes,
            emit_books=config.emit_books,
        )
        self._fetch = fetch or _fetch_historical
        self.requests = [config]
        if config.dataset in DEFINITION_DATASETS and config.schema != "definition":
            day_start = pd.Timestamp(config.start, tz="UTC").normalize().isoformat()
            definitions = msgspec.structs.replace(config, schema="definition", start=day_start)
            self.requests.insert(0, definitions)
        self.paths = [_download_path(request) for request in self.requests]
        self.path = self.paths[-1]
        # Where a download lands until it is whole: an interrupted one never passes for a
        # cached file.
        self.partial = self.path.with_name(self.path.name + ".part")

    async def connect(self) -> None:
        for request, path in zip(self.requests, self.paths, strict=True):
            if not path.is_file():
                path.parent.mkdir(parents=True, exist_ok=True)
                partial = path.with_name(path.name + ".part")
                await asyncio.to_thread(self._fetch, request, partial)
                partial.replace(path)

    async def close(self) -> None:
        return None

    def iter_events(self) -> Iterator[Event]:
        """The synchronous bulk iterator (replay) over the downloaded files."""
        return iter_file_events(self.paths, normaliser=self.normaliser)

    async def events(self) -> AsyncIterator[Event]:
        for index, event in enumerate(self.iter_events(), 1):
            yield event
            if index % 2_000 == 0:
                await asyncio.sleep(0)


def _download_path(config: DatabentoHistoricalConfig) -> Path:
    safe = "_".join(
        part.replace("/", "-").replace(":", "")
        for part in (config.dataset, config.schema, config.start, config.end)
    )
    return Path(config.download_dir) / f"{safe}.dbn.zst"


def _fetch_historical(config: DatabentoHistoricalConfig, path: Path) -> None:
    import databento

    client = databento.Historical(key=api_key(config.api_key))
    client.timeseries.get_range(
        dataset=config.dataset,
        schema=config.schema,
        symbols=config.symbols,
        stype_in=stype_of(config.symbols, config.stype_in),
        start=config.start,
        end=config.end,
        path=path,
    )


_END = object()


class DatabentoLiveSource:
    """A `databento.Live` session as a `Source`.

    The client calls `on_record` on its own thread for every record (the same callback
    shape as `DBNStore.replay`); events cross to the event loop through a queue and come
    out of `events()` in arrival order (the engine's reorder buffer restores canonical
    order across sources). `client_factory` builds the client; by default `databento.Live`
    with the config's `api_key`.
    """

    def __init__(
        self,
        config: DatabentoLiveConfig,
        client_factory: Callable[[], Any] | None = None,
    ) -> None:
        self.config = config
        self.name = config.source
        self.normaliser = RecordNormaliser(
            config.source,
            emit_venue_quotes=config.emit_venue_quotes,
            emit_books=config.emit_books,
        )
        self.schemas = list(config.schemas)
        if config.dataset in DEFINITION_DATASETS and "definition" not in self.schemas:
            self.schemas.insert(0, "definition")
        self._client_factory = client_factory
        self._client: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._lock = threading.Lock()

    async def connect(self) -> None:
        self._loop = asyncio.get_running_loop()
        if self._client_factory is None:
            import databento

            self._client = databento.Live(key=api_key(self.config.api_key))
        else:
            self._client = self._client_factory()
        for schema in self.schemas:
            self._client.subscribe(
                dataset=self.config.dataset,
                schema=schema,
                symbols=self.config.symbols,
                stype_in=stype_of(self.config.symbols, self.config.stype_in),
                start=self.config.start,
            )
        self._client.add_callback(self.on_record, self._on_callback_error)
        self._client.start()
        self._watch = asyncio.create_task(self._wait_for_close())

    async def _wait_for_close(self) -> None:
        try:
            await self._client.wait_for_close()
        except Exception as exc:  # noqa: BLE001  (a dropped session ends the stream, logged)
            log.error("databento live session ended: %s", exc)
        self._queue.put_nowait(_END)

    def attach_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Use `loop` for `on_record` without connecting (recorded sessions, tests)."""
        self._loop = loop

    def on_record(self, record: Any) -> None:
        """The `Live.add_callback` callback: normalise and hand over to the event loop."""
        with self._lock:  # the normaliser's state is not shared across threads
            events = self.normaliser(record)
        if events and self._loop is not None:
            self._loop.call_soon_threadsafe(self._queue.put_nowait, events)

    def _on_callback_error(self, exc: Exception) -> None:
        log.error("databento live callback failed: %s", exc)

    def end_of_stream(self) -> None:
        """Make `events()` finish once everything received so far is out (an order-book
        event the session left unfinished included)."""
        with self._lock:
            unfinished = self.normaliser.flush_books()
        if self._loop is not None:
            if unfinished:
                self._loop.call_soon_threadsafe(self._queue.put_nowait, unfinished)
            self._loop.call_soon_threadsafe(self._queue.put_nowait, _END)

    async def close(self) -> None:
        if self._client is not None:
            self._client.stop()
        self.end_of_stream()

    async def events(self) -> AsyncIterator[Event]:
        while True:
            batch = await self._queue.get()
            if batch is _END:
                return
            for event in batch:
                yield event
