"""Databento sources: DBN files, `databento.Historical` and `databento.Live`.

All three feed records through one `RecordNormaliser` (ingest.databento.parsing).
"""

from __future__ import annotations

import asyncio
import gc
import logging
import threading
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import databento_dbn as dbn
import numpy as np
import zstandard
from databento import DBNStore

from ingest.databento.config import (
    DatabentoFileConfig,
    DatabentoHistoricalConfig,
    DatabentoLiveConfig,
    api_key,
)
from ingest.databento.parsing import NS_PER_DAY, RecordNormaliser
from ingest.merge import CanonicalBatches, canonical_stream, merge_canonical
from schemas.errors import FlowtapeError
from schemas.events import (
    UNDEF_PRICE,
    UNDEF_TIMESTAMP,
    EquityPrint,
    Event,
    OptionPrint,
    Quarantined,
)

log = logging.getLogger(__name__)

_ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"


class DbnReadError(FlowtapeError):
    """A DBN file could not be read to its end; `reason` is the quarantine reason."""

    code = "dbn_read"

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def read_dbn(path: str | Path, chunk_bytes: int = 1 << 20) -> Iterator[Any]:
    """Stream a DBN file (plain or zstd): first its Metadata, then its records.

    Raises `DbnReadError` (reason `malformed_dbn` or `truncated_dbn`) where the bytes stop
    making sense; everything decoded before that point has been yielded.
    """
    try:
        fh = open(path, "rb")  # noqa: SIM115  (closed in finally; wrapped by zstd below)
    except OSError as exc:
        raise DbnReadError("unreadable_file", f"{path}: {exc}") from exc
    try:
        magic = fh.read(4)
        fh.seek(0)
        stream: Any = (
            zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True)
            if magic == _ZSTD_MAGIC
            else fh
        )
        decoder = dbn.DBNDecoder()
        seen_any = False
        while True:
            try:
                chunk = stream.read(chunk_bytes)
            except zstandard.ZstdError as exc:
                raise DbnReadError("malformed_dbn", f"{path}: zstd: {exc}") from exc
            if not chunk:
                break
            try:
                decoder.write(chunk)
                records = decoder.decode()
            except Exception as exc:  # noqa: BLE001  (DBNError and friends)
                raise DbnReadError("malformed_dbn", f"{path}: {exc}") from exc
            seen_any = seen_any or bool(records)
            yield from records
        if not seen_any:
            raise DbnReadError("malformed_dbn", f"{path}: no DBN metadata")
        leftover = len(decoder.buffer())
        if leftover:
            raise DbnReadError(
                "truncated_dbn", f"{path}: {leftover} trailing bytes do not make a whole record"
            )
    finally:
        fh.close()


def normalise_records(
    records: Iterable[Any], normaliser: RecordNormaliser, origin: str = ""
) -> Iterator[Event]:
    """Records through the normaliser, in input order; a read error becomes a quarantine."""
    # A read error is stamped with this file's last receive time, so where it lands in a
    # merge does not depend on how the other files were interleaved.
    last_ts_recv = 0
    try:
        for record in records:
            events = normaliser(record)
            if events:
                last_ts_recv = events[-1].ts_recv  # type: ignore[attr-defined]
                yield from events
    except DbnReadError as exc:
        normaliser.counters[f"quarantined:{exc.reason}"] += 1
        yield Quarantined(
            ts_recv=last_ts_recv,
            source=normaliser.source,
            reason=exc.reason,
            detail=exc.detail,
        )


class _OpenFile:
    """A DBN file whose metadata is already in the normaliser, ready to stream events."""

    def __init__(self, path: str, normaliser: RecordNormaliser, chunk_bytes: int) -> None:
        self.path = path
        self._records = read_dbn(path, chunk_bytes)
        self._failed: DbnReadError | None = None
        try:
            first = next(self._records)
        except StopIteration:
            first = None
        except DbnReadError as exc:
            self._failed = exc
            first = None
        if isinstance(first, dbn.Metadata):
            normaliser.add_metadata(first)
        elif first is not None:
            self._failed = DbnReadError("malformed_dbn", f"{path}: no DBN metadata")

    def records(self) -> Iterator[Any]:
        if self._failed is not None:
            raise self._failed
        yield from self._records


def iter_file_events(
    paths: str | Path | Iterable[str | Path],
    *,
    normaliser: RecordNormaliser | None = None,
    reorder_window_ns: int | None = 0,
    chunk_bytes: int = 1 << 20,
) -> Iterator[Event]:
    """Events of one or more DBN files, merged in canonical order (synchronous, streaming).

    This is the bulk replay path: every file is read in chunks and merged k-way by
    `ts_recv` with canonical tie-breaks, so memory does not grow with the session. All
    files share one normaliser, so definitions and symbology in one file serve the others.
    A malformed file ends in a `Quarantined` event; the other files carry on.
    """
    if isinstance(paths, str | Path):
        paths = [paths]
    normaliser = normaliser or RecordNormaliser()
    opened = [_OpenFile(str(p), normaliser, chunk_bytes) for p in paths]
    streams = [
        canonical_stream(
            normalise_records(f.records(), normaliser, f.path),
            reorder_window_ns,
            source=normaliser.source,
        )
        for f in opened
    ]
    if len(streams) == 1:
        return streams[0]
    return merge_canonical(streams)


_BULK_SCHEMAS = frozenset({"trades", "tbbo", "tcbbo"})


def bulk_file_events(
    path: str | Path,
    *,
    normaliser: RecordNormaliser | None = None,
    chunk_records: int = 131_072,
) -> Iterator[Event]:
    """`bulk_file_batches` one event at a time."""
    for batch in bulk_file_batches(path, normaliser=normaliser, chunk_records=chunk_records):
        yield from batch


def bulk_file_batches(
    path: str | Path,
    *,
    normaliser: RecordNormaliser | None = None,
    chunk_records: int = 131_072,
) -> Iterator[list[Event]]:
    """The fast replay path for one trade file (`trades`, `tbbo`, `tcbbo`): event batches
    in canonical order.

    Decodes columns in bulk (`DBNStore.to_ndarray`) and builds events straight from them;
    any row the record path would quarantine or inspect further (unmapped, undefined price,
    zero size, unsupported class...) goes through `RecordNormaliser` itself, so the events
    are exactly those of `iter_file_events`. Other schemas and unreadable files fall back
    to `iter_file_events`.
    """
    normaliser = normaliser or RecordNormaliser()
    try:
        store = DBNStore.from_file(path)
        schema = str(store.schema) if store.schema is not None else ""
    except Exception:  # noqa: BLE001  (the record path reports what is wrong with the file)
        schema = ""
    if schema not in _BULK_SCHEMAS:
        batch: list[Event] = []
        for event in iter_file_events(path, normaliser=normaliser):
            batch.append(event)
            if len(batch) >= chunk_records:
                yield batch
                batch = []
        yield batch
        return
    normaliser.add_metadata(store.metadata)
    ordering = CanonicalBatches(normaliser.source)
    for batch in _bulk_batches(store, schema, normaliser, chunk_records):
        yield ordering.feed(batch)
    yield ordering.flush()


def _bulk_batches(
    store: DBNStore, schema: str, normaliser: RecordNormaliser, chunk_records: int
) -> Iterator[list[Event]]:
    chunks = iter(store.to_ndarray(count=chunk_records))
    last_ts_recv = 0
    while True:
        try:
            array = next(chunks)
        except StopIteration:
            return
        except Exception as exc:  # noqa: BLE001  (a broken file ends in a quarantine)
            normaliser.counters["quarantined:malformed_dbn"] += 1
            yield [
                Quarantined(
                    ts_recv=last_ts_recv,
                    source=normaliser.source,
                    reason="malformed_dbn",
                    detail=f"{store}: {type(exc).__name__}: {exc}",
                )
            ]
            return
        # Building ~10^5 tracked objects in a row makes the cyclic GC rescan them again and
        # again; the batch holds no cycles, so collection can wait until it is built.
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            batch = _bulk_chunk(array, schema, normaliser, store.metadata.version)
        finally:
            if gc_was_enabled:
                gc.enable()
        if batch:
            last_ts_recv = batch[-1].ts_recv  # type: ignore[attr-defined]
        yield batch


def _bulk_chunk(array: Any, schema: str, normaliser: RecordNormaliser, version: int) -> list[Event]:
    n = len(array)
    if n == 0:
        return []
    source = normaliser.source
    counters = normaliser.counters
    names = array.dtype.names or ()
    ts_recv_col = array["ts_recv"]
    ts_event_col = array["ts_event"]
    price_col = array["price"]
    # Rows the record path must look at (it quarantines them or decides otherwise).
    special = (
        (price_col == UNDEF_PRICE)
        | (price_col < 0)
        | (array["size"] == 0)
        | (ts_event_col == UNDEF_TIMESTAMP)
        | (ts_recv_col == UNDEF_TIMESTAMP)
    )
    # tcbbo arrays use the CBBO layout, where the (always trade) action is reserved.
    if "action" in names:
        special |= array["action"] != b"T"
    # Resolve each (publisher, instrument, day) once per chunk: packed into one uint64
    # (16 + 32 + 16 bits; days since 1970 stay below 2**16 until 2149).
    days = ts_recv_col // NS_PER_DAY
    overflow = days >= 1 << 16  # undefined receive times: the record path quarantines them
    if overflow.any():
        special |= overflow
        days = np.minimum(days, (1 << 16) - 1)
    keys = (
        (array["publisher_id"].astype(np.uint64) << np.uint64(48))
        | (array["instrument_id"].astype(np.uint64) << np.uint64(16))
        | days.astype(np.uint64)
    )
    unique_keys, inverse = np.unique(keys, return_inverse=True)
    resolved = [
        normaliser.print_target(k >> 48, (k >> 16) & 0xFFFF_FFFF, k & 0xFFFF)
        for k in unique_keys.tolist()
    ]
    targets = [resolved[k] for k in inverse.tolist()]
    ts_recv = ts_recv_col.tolist()
    ts_event = ts_event_col.tolist()
    pids = array["publisher_id"].tolist()
    iids = array["instrument_id"].tolist()
    prices = price_col.tolist()
    sizes = array["size"].tolist()
    sides = array["side"].astype("U1").tolist()
    flags = array["flags"].tolist()
    sequence = array["sequence"].tolist() if "sequence" in names else [0] * n
    with_bbo = schema != "trades"
    if with_bbo:
        bid_col, ask_col = array["bid_px_00"], array["ask_px_00"]
        bids = np.where(bid_col == UNDEF_PRICE, None, bid_col).tolist()
        asks = np.where(ask_col == UNDEF_PRICE, None, ask_col).tolist()
        bid_szs = array["bid_sz_00"].tolist()
        ask_szs = array["ask_sz_00"].tolist()
    else:
        bids = asks = bid_szs = ask_szs = [None] * n
    # The venue's BBO (tbbo) is never attached to option prints (see parsing's docstring).
    venue_bbo = schema == "tbbo"
    special_rows = special.tolist()
    out: list[Event] = []
    append = out.append
    n_option = n_equity = n_special = 0
    rows = zip(
        targets,
        special_rows,
        ts_recv,
        ts_event,
        pids,
        iids,
        sequence,
        prices,
        sizes,
        sides,
        flags,
        bids,
        asks,
        bid_szs,
        ask_szs,
        strict=True,
    )
    for i, (
        target,
        is_special,
        tr,
        te,
        pid,
        iid,
        seq,
        px,
        sz,
        side,
        fl,
        bp,
        ap,
        bs,
        as_,
    ) in enumerate(rows):
        if target is None or is_special:
            n_special += 1
            if i:
                normaliser.saw_ts_recv(ts_recv[i - 1])
            out.extend(normaliser(_record_of(array[i].tobytes(), version)))
            continue
        pub, kind, symbol, underlying = target
        if kind == "option":
            n_option += 1
            if venue_bbo:
                bp = ap = bs = as_ = None
            append(
                OptionPrint(
                    ts_recv=tr,
                    ts_event=te,
                    publisher_id=pid,
                    instrument_id=iid,
                    sequence=seq,
                    source=source,
                    symbol=symbol,
                    underlying=underlying,
                    price=px,
                    size=sz,
                    side=side,
                    flags=fl,
                    bid_px=bp,
                    ask_px=ap,
                    bid_sz=bs,
                    ask_sz=as_,
                )
            )
        else:
            n_equity += 1
            append(
                EquityPrint(
                    ts_recv=tr,
                    ts_event=te,
                    publisher_id=pid,
                    instrument_id=iid,
                    sequence=seq,
                    source=source,
                    symbol=symbol,
                    venue=pub.venue,
                    off_exchange=pub.off_exchange,
                    price=px,
                    size=sz,
                    side=side,
                    flags=fl,
                    bid_px=bp,
                    ask_px=ap,
                    bid_sz=bs,
                    ask_sz=as_,
                )
            )
    counters["records"] += n - n_special  # the record path counted the special rows
    if n_option:
        counters["OptionPrint"] += n_option
        if schema == "tbbo":
            counters["venue_bbo_dropped"] += n_option
    if n_equity:
        counters["EquityPrint"] += n_equity
    normaliser.saw_ts_recv(ts_recv[-1])
    return out


_MISSING = object()


def _record_of(raw: bytes, version: int) -> Any:
    decoder = dbn.DBNDecoder(has_metadata=False, input_version=version)
    decoder.write(raw)
    return decoder.decode()[0]


class DatabentoFileSource:
    """DBN files as a `Source`: `async for event in source.events()`."""

    def __init__(self, config: DatabentoFileConfig) -> None:
        self.config = config
        self.name = config.source
        self.normaliser = RecordNormaliser(
            config.source, emit_venue_quotes=config.emit_venue_quotes
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
            config.source, emit_venue_quotes=config.emit_venue_quotes
        )
        self._fetch = fetch or _fetch_historical
        safe = "_".join(
            part.replace("/", "-").replace(":", "")
            for part in (config.dataset, config.schema, config.start, config.end)
        )
        self.path = Path(config.download_dir) / f"{safe}.dbn.zst"

    async def connect(self) -> None:
        if not self.path.is_file():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            await asyncio.to_thread(self._fetch, self.config, self.path)

    async def close(self) -> None:
        return None

    def iter_events(self) -> Iterator[Event]:
        """The synchronous bulk iterator (replay) over the downloaded file."""
        return iter_file_events(self.path, normaliser=self.normaliser)

    async def events(self) -> AsyncIterator[Event]:
        for index, event in enumerate(self.iter_events(), 1):
            yield event
            if index % 2_000 == 0:
                await asyncio.sleep(0)


def _fetch_historical(config: DatabentoHistoricalConfig, path: Path) -> None:
    import databento

    client = databento.Historical(key=api_key(config.api_key))
    client.timeseries.get_range(
        dataset=config.dataset,
        schema=config.schema,
        symbols=config.symbols,
        stype_in=config.stype_in,
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
            config.source, emit_venue_quotes=config.emit_venue_quotes
        )
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
        for schema in self.config.schemas:
            self._client.subscribe(
                dataset=self.config.dataset,
                schema=schema,
                symbols=self.config.symbols,
                stype_in=self.config.stype_in,
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
        """Make `events()` finish once everything received so far is out."""
        if self._loop is not None:
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
