"""The `candles` channel of `/v1/ws`: live candles built from the prints on RAW.

A client subscribes keys with one timeframe; each print read from the log updates the candle
of its bucket in every series it counts in (analytics/live_candles.py), and the updated
candle is sent. Candles agree with `/v1/candles` once the prints are stored:

- a series starts at the feed's position P on the print subject: the newest stored candle of
  prints with `log_seq <= P` is read from ClickHouse (after the sink has stored RAW up to P)
  and merged with the prints read live after P; open and close are kept with their canonical
  keys, so the merge is exact whatever the arrival order;
- a print for a bucket the series does not hold (older than the stored candle, or dropped
  from the series' last `MAX_BUCKETS`) has that bucket read the same way, bounded by the
  message before it; until then the bucket's updates wait.

A bucket is sent only once complete in that sense. When the sink does not reach the bound in
`seed_wait_s`, the clients get a `candles_incomplete` control message naming the key, and
the candle holds what was stored. Only the `live` run's prints count; RAW is followed only
while some series is subscribed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from clickhouse_connect.driver.exceptions import OperationalError

from analytics.candles import (
    KINDS,
    SOURCES,
    CandleRequest,
    fetch_candles,
    is_occ,
    normalise_key,
    resolve_kind,
)
from analytics.live_candles import (
    PRINT_TYPE_OF_KIND,
    PRINT_TYPES,
    LiveCandle,
    bucket_start,
    series_of,
)
from analytics.timeframes import TIMEFRAMES, BadTimeframe, Timeframe, parse_timeframe
from api.candle_view import candle_view
from api.services import Services
from api.tape import Client, control
from infra.bus import LogMessage, StreamReader
from infra.tasks import cancel_and_wait
from schemas.errors import FlowtapeError
from schemas.events import Event, event_tag
from schemas.subjects import RAW_STREAM

log = logging.getLogger("flowtape.api.candles")

CHANNEL = "candles"
RUN_ID = "live"
MAX_BUCKETS = 64
_TIMEFRAME_SECONDS = tuple(frame.seconds for frame in TIMEFRAMES)
_encode = msgspec.json.Encoder().encode


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def _subject(event_type: type[Event]) -> str:
    return f"flow.raw.{event_tag(event_type)}.>"


FUTURES_LICENSED = "candles: CME futures are licensed exchange data; an admin key reads them"


class CandlesRefused(FlowtapeError):
    """A candle subscription the feed cannot take (its message says why)."""

    code = "candles"


@dataclass(eq=False)
class _Bucket:
    candle: LiveCandle
    ready: bool  # complete: its stored prints are merged, or it has none
    seq: int = 0  # the last stream sequence applied to it


@dataclass(eq=False)
class Series:
    """One key's candles of one timeframe, shared by the clients subscribed to it."""

    kind: str
    key: str
    timeframe: Timeframe
    since_seq: int  # the feed's position on the print subject when the series began
    clients: set[Client] = field(default_factory=set)
    buckets: dict[int, _Bucket] = field(default_factory=dict)
    started: bool = False  # the newest stored candle up to since_seq is merged
    newest_stored: int | None = None  # its bucket start (None: nothing stored)
    dropped_upto: int | None = None  # the newest bucket start dropped from `buckets`

    def needs_stored(self, start: int) -> bool:
        """Whether bucket `start`, not held, may hold prints the series has not seen."""
        return any(bound is not None and start <= bound
                   for bound in (self.newest_stored, self.dropped_upto))  # fmt: skip


@dataclass
class FeedMetrics:
    messages_read: int = 0
    updates_sent: int = 0
    dropped: int = 0
    stored_reads: int = 0
    incomplete: int = 0
    reader_errors: int = 0


class CandleFeed:
    """Follows the print subjects of RAW while any series is subscribed, and keeps the
    subscribed series."""

    def __init__(self, services: Services, *, seed_wait_s: float = 10.0) -> None:
        self.services = services
        self.seed_wait_s = seed_wait_s
        self.series: dict[tuple[str, str, int], Series] = {}
        self.positions: dict[type[Event], int] = {}
        self.metrics = FeedMetrics()
        self._of_client: dict[Client, list[Series]] = {}
        self._readers: list[asyncio.Task[None]] = []
        self._reads: set[asyncio.Task[None]] = set()
        self._stopping: set[asyncio.Task[None]] = set()  # readers cancelled, not yet done
        self._start_lock = asyncio.Lock()
        self._poll_lock = asyncio.Lock()
        self._sink_position = 0  # the last position the sink was seen to have stored

    # ------------------------------------------------------------------ lifecycle

    async def _start(self) -> None:
        async with self._start_lock:
            if self._readers:
                return
            bus = await self.services.bus()
            last = await bus.end_of(RAW_STREAM)
            for event_type in PRINT_TYPES:
                self.positions[event_type] = last
                reader = asyncio.create_task(self._follow(event_type), name="flowtape-candles")
                reader.add_done_callback(self._stopping.discard)
                self._readers.append(reader)

    @property
    def reading(self) -> bool:
        """Whether the print subjects of RAW are being followed."""
        return bool(self._readers)

    async def stop(self) -> None:
        await cancel_and_wait([*self._readers, *self._stopping, *self._reads])

    async def _follow(self, event_type: type[Event]) -> None:
        reader: StreamReader | None = None
        try:
            while True:
                try:
                    if reader is None:
                        bus = await self.services.bus()
                        reader = await bus.reader(
                            RAW_STREAM,
                            start_seq=self.positions[event_type] + 1,
                            filter_subject=_subject(event_type),
                        )
                    messages = await reader.fetch(256, timeout_s=0.5)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.metrics.reader_errors += 1
                    log.warning("candle reader: %s; reopening", str(exc) or type(exc).__name__)
                    reader = None
                    await asyncio.sleep(1.0)
                    continue
                for message in messages:
                    self.dispatch(event_type, message)
        finally:
            if reader is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader.close(), 1.0)

    # ------------------------------------------------------------------ subscriptions

    async def subscribe_command(
        self,
        client: Client,
        symbols: list[str],
        tf: str | None,
        kind: str | None,
        *,
        futures_allowed: bool = False,
    ) -> None:
        """The `candles` part of a subscribe command (`tf` 1m unless given; `kind` as
        `/v1/candles` reads it, an unstored key needing it). A refusal, or ClickHouse or NATS
        away, is told to the client in one line; the connection stays. CME futures' candles
        are licensed exchange data: only callers inside the platform (`futures_allowed`: an
        admin key, or development mode on loopback) may follow them."""
        try:
            timeframe, keys = await self._resolve(symbols, tf, kind)
            if not futures_allowed and any(found == "future" for found, _ in keys):
                raise CandlesRefused(FUTURES_LICENSED)
            await self.subscribe(client, keys, timeframe)
        except CandlesRefused as refused:
            client.say(control("error", detail=refused.args[0]))
        except OperationalError as exc:
            client.say(
                control(
                    "error", detail=f"candles: ClickHouse unreachable: {_first_line(exc)}; retry"
                )
            )
        except Exception as exc:  # NATS away (Unavailable), or ClickHouse refusing: retry later
            client.say(control("error", detail=f"candles: {_first_line(exc)}; retry"))

    async def _resolve(
        self, symbols: list[str], tf: str | None, kind: str | None
    ) -> tuple[Timeframe, list[tuple[str, str]]]:
        try:
            timeframe = parse_timeframe(tf or "1m")
        except BadTimeframe as exc:
            raise CandlesRefused(exc.args[0]) from exc
        if kind is not None and kind not in KINDS:
            raise CandlesRefused(f"kind: expected one of {', '.join(KINDS)}, got {kind!r}")
        keys = list(dict.fromkeys(normalise_key(s) for s in symbols if s.strip()))
        if not keys:
            raise CandlesRefused("candles: name the keys in `symbols`")
        resolved = []
        for key in keys:
            found = kind or ("contract" if is_occ(key) else await self._stored_kind(key))
            if found is None:
                raise CandlesRefused(
                    f"candles: no prints of {key!r} stored in run {RUN_ID!r}; "
                    f"give `kind` ({', '.join(KINDS)})"
                )
            resolved.append((found, key))
        return timeframe, resolved

    async def _stored_kind(self, key: str) -> str | None:
        warehouse = await asyncio.to_thread(self.services.warehouse)
        return await asyncio.to_thread(resolve_kind, warehouse, key, RUN_ID, None)

    async def subscribe(
        self, client: Client, keys: list[tuple[str, str]], timeframe: Timeframe
    ) -> None:
        """Make `client` follow these (kind, key) series of one timeframe (replacing what it
        followed), and acknowledge."""
        await self._start()
        # From here to the registration nothing awaits: no message can fall in between.
        self._forget(client)
        followed = []
        for kind, key in keys:
            name = (kind, key, timeframe.seconds)
            series = self.series.get(name)
            if series is None:
                since = self.positions[PRINT_TYPE_OF_KIND[kind]]
                series = self.series[name] = Series(kind, key, timeframe, since)
                self._read_stored(series, None, since)
            series.clients.add(client)
            followed.append(series)
        self._of_client[client] = followed
        client.say(
            control(
                "subscribed",
                channels=[CHANNEL],
                tf=timeframe.name,
                symbols=[key for _, key in keys],
                kinds={key: kind for kind, key in keys},
                seq={s.key: s.since_seq for s in followed},
            )
        )
        for series in followed:
            if series.started and series.buckets:
                newest = max(series.buckets)
                if series.buckets[newest].ready:
                    self._send(series, newest, only=client)

    def remove(self, client: Client) -> None:
        """Forget the client's series; with no series left the feed stops reading RAW (the
        next subscription starts it again from the stream's end)."""
        self._forget(client)
        if not self.series and self._readers:
            readers, self._readers = self._readers, []
            stopper = asyncio.create_task(cancel_and_wait(readers))
            stopper.add_done_callback(self._stopping.discard)
            self._stopping.update([*readers, stopper])

    def _forget(self, client: Client) -> None:
        for series in self._of_client.pop(client, []):
            series.clients.discard(client)
            if not series.clients:
                self.series.pop((series.kind, series.key, series.timeframe.seconds), None)

    # ------------------------------------------------------------------ prints

    def dispatch(self, event_type: type[Event], message: LogMessage) -> None:
        """Apply one message's prints to the series they count in; send what changed."""
        self.metrics.messages_read += 1
        seq = message.stream_seq
        if seq <= self.positions[event_type]:
            return
        self.positions[event_type] = seq
        if message.error is not None or message.run_id != RUN_ID or not self.series:
            return
        touched: dict[tuple[int, int], tuple[Series, int]] = {}
        for event in message.events:
            for kind, key in series_of(event):
                for seconds in _TIMEFRAME_SECONDS:
                    series = self.series.get((kind, key, seconds))
                    if series is not None:
                        start = self._apply(series, event, seq)
                        touched[(id(series), start)] = (series, start)
        for series, start in touched.values():
            if series.buckets[start].ready:
                self._send(series, start)
        for series, _ in touched.values():  # after sending: a bucket's last update goes out
            self._drop_oldest(series)

    def _apply(self, series: Series, event: Any, seq: int) -> int:
        start = bucket_start(event.ts_recv, series.timeframe.seconds)
        bucket = series.buckets.get(start)
        if bucket is None:
            stored = not series.started or series.needs_stored(start)
            bucket = series.buckets[start] = _Bucket(
                LiveCandle(SOURCES[series.kind], start), ready=not stored
            )
            if series.started and stored:
                # every earlier message of this subject is at or below seq - 1
                self._read_stored(series, start, seq - 1)
        bucket.candle.add_print(event)
        bucket.seq = seq
        return start

    def _drop_oldest(self, series: Series) -> None:
        """Hold at most MAX_BUCKETS buckets: the oldest complete ones go (never one waiting
        for stored prints)."""
        ready = sorted(start for start, b in series.buckets.items() if b.ready)
        for oldest in ready[: max(0, len(series.buckets) - MAX_BUCKETS)]:
            del series.buckets[oldest]
            series.dropped_upto = max(oldest, series.dropped_upto or oldest)

    # ------------------------------------------------------------------ stored prints

    def _read_stored(self, series: Series, start: int | None, upto: int) -> None:
        """Merge the stored candle of bucket `start` (None: the newest one) made of prints
        of messages up to `upto`, once the sink has stored them."""
        task = asyncio.create_task(self._merge_stored(series, start, upto))
        self._reads.add(task)
        task.add_done_callback(self._reads.discard)

    async def _merge_stored(self, series: Series, start: int | None, upto: int) -> None:
        seconds = series.timeframe.seconds
        request = CandleRequest(
            series.kind,
            series.key,
            series.timeframe,
            RUN_ID,
            limit=1,
            since_ns=None if start is None else start * 1_000_000_000,
            until_ns=None if start is None else (start + seconds) * 1_000_000_000,
            max_log_seq=upto,
            with_keys=True,
        )
        try:
            complete = await self._sink_reached(upto)
            warehouse = await asyncio.to_thread(self.services.warehouse)
            rows = await asyncio.to_thread(fetch_candles, warehouse, request)
        except Exception as exc:  # ClickHouse away: say so, never hang the bucket
            complete, rows = False, []
            log.warning("candles: reading %s stored: %s", series.key, exc)
        self.metrics.stored_reads += 1
        if not complete:
            self.metrics.incomplete += 1
            for client in series.clients:
                client.say(control("candles_incomplete", symbol=series.key, seq=upto,
                                   detail=f"ClickHouse does not hold RAW up to seq {upto}; "
                                   "this candle may miss prints stored later"))  # fmt: skip
        if start is None:
            self._started(series, rows, upto)
            return
        bucket = series.buckets.get(start)
        if bucket is None:  # dropped meanwhile: dropped_upto covers it
            return
        for row in rows:
            bucket.candle.merge_stored(row)
        bucket.ready = True
        self._send(series, start)

    async def _sink_reached(self, upto: int) -> bool:
        """Whether the sink has stored RAW up to `upto`, waiting up to `seed_wait_s` (one
        poll at a time for all the reads waiting)."""
        deadline = time.monotonic() + self.seed_wait_s
        while self._sink_position < upto:
            if time.monotonic() >= deadline:
                return False
            async with self._poll_lock:
                if self._sink_position < upto:
                    self._sink_position = await asyncio.to_thread(self._stored_position)
                    if self._sink_position < upto:
                        await asyncio.sleep(0.1)
        return True

    def _stored_position(self) -> int:
        stored = self.services.warehouse().scalar(
            "SELECT max(position) FROM sink_positions WHERE stream = {s:String}",
            {"s": RAW_STREAM},
        )
        return int(stored or 0)

    def _started(self, series: Series, rows: list[dict[str, Any]], upto: int) -> None:
        """The newest stored candle is in: merge it and settle the buckets held so far."""
        newest = int(rows[-1]["start_ns"]) // 1_000_000_000 if rows else None
        series.newest_stored = newest
        series.started = True
        if newest is not None:
            bucket = series.buckets.get(newest)
            if bucket is None:
                bucket = series.buckets[newest] = _Bucket(
                    LiveCandle(SOURCES[series.kind], newest), ready=True, seq=upto
                )
            bucket.candle.merge_stored(rows[-1])
            bucket.ready = True
        for start, bucket in sorted(series.buckets.items()):
            if bucket.ready:
                continue
            if newest is not None and start < newest:
                self._read_stored(series, start, upto)
            else:
                bucket.ready = True
        for start, bucket in sorted(series.buckets.items()):
            if bucket.ready:
                self._send(series, start)
        self._drop_oldest(series)

    # ------------------------------------------------------------------ sending

    def _send(self, series: Series, start: int, only: Client | None = None) -> None:
        bucket = series.buckets[start]
        data = {"key": series.key, "kind": series.kind, "tf": series.timeframe.name,
                **candle_view(bucket.candle.view())}  # fmt: skip
        text = _encode(
            {"channel": CHANNEL, "source": RUN_ID, "seq": bucket.seq, "data": data}
        ).decode()
        for client in [only] if only is not None else list(series.clients):
            if client.offer(text):
                self.metrics.updates_sent += 1
            else:
                self.metrics.dropped += 1
