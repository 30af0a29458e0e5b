"""`/v1/playback/{run_id}`: a stored run's packets and alerts replayed at a chosen pace.

Playback is a server-sent event stream (text/event-stream): it works with a plain
`EventSource` in the browser and any HTTP client, needs no subscription protocol, and
reconnects are the client's choice. Each event is `event: <channel>`, `id: <n>`,
`data: {"channel", "source": "playback", "seq": n, "data"}`, and a final `event: end`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import Response, StreamingResponse

from api.dependencies import REPLAY, StoreDep
from api.error_responses import AUTH, error_responses
from api.query_params import Underlyings, Until, comma_separated, time_ns, time_query
from api.responses import encode_json
from api.store import ALERTS, PACKETS, Filters, Store, Table
from api.tape import control

router = APIRouter(
    tags=["playback"], dependencies=[REPLAY], responses=error_responses(400, *AUTH, 404, 503)
)

PLAYBACK_CHANNELS = (("packets", PACKETS), ("alerts", ALERTS))


class EventStream(StreamingResponse):
    """Server-sent events; OpenAPI documents the route's body as text/event-stream."""

    media_type = "text/event-stream"


# Documentation only: channels it does not match reach playback_channels, which names the
# problem in a 400.
CHANNELS_PATTERN = r"^(?:packets|alerts)(?:,(?:packets|alerts))*$"
_Item = tuple[int, int, str, str, dict[str, Any]]  # (ts, channel rank, id, channel, data)
PAGE_SIZE = 2000  # rows a query reads (packets with their lone singles, or alerts)
READ_AHEAD = 2 * PAGE_SIZE  # events read before they are due
CHUNK_EVENTS = 500  # events due together sent in one write at most
TOGETHER_S = 0.01  # events due this close go out together (a browser frame is 16 ms)


def playback_channels(
    channels: Annotated[
        str,
        Query(
            description="packets and/or alerts, comma-separated.",
            json_schema_extra={"pattern": CHANNELS_PATTERN},
        ),
    ] = "packets,alerts",
) -> list[str]:
    wanted = [c for c in comma_separated(channels) if c in ("packets", "alerts")]
    if not wanted:
        raise HTTPException(400, f"channels: expected packets and/or alerts, got {channels!r}")
    return wanted


def playback_filters(
    run_id: str,
    underlying: Underlyings,
    from_: Annotated[str | None, time_query("From this time", alias="from")] = None,
    until: Until = None,
) -> Filters:
    return Filters(
        run_id=run_id,
        symbols=underlying,
        since_ns=time_ns("from", from_),
        until_ns=time_ns("until", until),
    )


@router.get("/v1/playback/{run_id}", response_class=EventStream)
async def playback(
    channels: Annotated[list[str], Depends(playback_channels)],
    filters: Annotated[Filters, Depends(playback_filters)],
    store: StoreDep,
    speed: Annotated[float, Query(ge=0, description="1 = event time; 0 = no waiting.")] = 1.0,
    max_wait_s: Annotated[
        float, Query(gt=0, description="Longer quiet spells shrink to this.")
    ] = 5.0,
) -> Response:
    """A stored run's packets and alerts as server-sent events, in event-time order, at
    `speed` times the original pace."""
    run_id = filters.run_id
    if not await asyncio.to_thread(store.run_known, run_id):
        raise HTTPException(404, f"no run {run_id!r}: not registered and no stored rows")
    sources = [_pages(store, t, c, filters) for c, t in PLAYBACK_CHANNELS if c in channels]
    return EventStream(
        _paced(_merged(sources), speed, max_wait_s),
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


async def _pages(
    store: Store, table: Table, channel: str, filters: Filters, size: int = PAGE_SIZE
) -> AsyncIterator[_Item]:
    rank = 0 if table is PACKETS else 1  # a packet goes before the alert raised on it
    after: tuple[int, str] | None = None
    while True:
        page = await asyncio.to_thread(store.page, table, filters, after, size)
        for ts, item_id, data in page:
            yield ts, rank, item_id, channel, data
        if len(page) < size:
            return
        after = page[-1][0], page[-1][1]


async def _merged(sources: list[AsyncIterator[_Item]]) -> AsyncIterator[_Item]:
    """Merge sorted async iterators by (ts, rank, id)."""
    heads: list[tuple[_Item, int]] = []
    for index, source in enumerate(sources):
        first = await anext(source, None)
        if first is not None:
            heads.append((first, index))
    while heads:
        heads.sort(key=lambda h: h[0][:3])
        item, index = heads.pop(0)
        yield item
        following = await anext(sources[index], None)
        if following is not None:
            heads.append((following, index))


@dataclass(frozen=True)
class _Done:
    """The end of the events read, or the error that ended the reading."""

    error: Exception | None


async def _read_ahead(items: AsyncIterator[_Item], queue: asyncio.Queue[_Item | _Done]) -> None:
    """Fill `queue` from `items` (the next pages are read while the current ones play)."""
    try:
        async for item in items:
            await queue.put(item)
    except Exception as error:  # noqa: BLE001  (handed to the stream, which raises it)
        await queue.put(_Done(error))
    else:
        await queue.put(_Done(None))


async def _paced(
    items: AsyncIterator[_Item], speed: float, max_wait_s: float
) -> AsyncIterator[str]:
    """The events at their due times (run time / speed). Events due within TOGETHER_S of
    each other go out as one chunk, and the stream sleeps once per chunk, until the next
    event is due."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[_Item | _Done] = asyncio.Queue(READ_AHEAD)
    reader = asyncio.create_task(_read_ahead(items, queue))
    target = 0.0  # when the current event is due (loop time); the first is due on arrival
    previous: int | None = None
    seq = 0
    chunk: list[str] = []
    try:
        while True:
            if chunk and (queue.empty() or len(chunk) >= CHUNK_EVENTS):
                yield "".join(chunk)
                chunk = []
            item = await queue.get()
            if isinstance(item, _Done):
                if item.error is not None:
                    raise item.error
                break
            ts, _, _, channel, data = item
            if previous is None:
                target = loop.time()
            elif speed > 0:
                target += min(max(ts - previous, 0) / 1e9 / speed, max_wait_s)
                delay = target - loop.time()
                if delay > TOGETHER_S:
                    if chunk:
                        yield "".join(chunk)
                        chunk = []
                    await asyncio.sleep(delay)
            previous = ts
            seq += 1
            body = encode_json({"channel": channel, "source": "playback", "seq": seq, "data": data})
            chunk.append(f"event: {channel}\nid: {seq}\ndata: {body.decode()}\n\n")
        chunk.append(f"event: end\ndata: {control('end', count=seq)}\n\n")
        yield "".join(chunk)
    finally:
        reader.cancel()
