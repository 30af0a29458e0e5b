"""The live tape: DERIVED read once, fanned out to WebSocket clients by channel and symbol.

Protocol of `/v1/ws` (JSON text frames):

client -> server
  {"action": "subscribe", "channels": ["packets", "alerts", "hits", "darkpool", "inference",
   "alpha"], "symbols": ["AAPL"], "since_seq": 123}
      Replaces the client's filter. `symbols` empty or missing = every symbol. Without
      `since_seq` only messages stored after the subscription arrive; with it, the stream
      is first replayed from that sequence, then the live messages follow, in order.
  {"action": "subscribe", "channels": ["candles"], "symbols": ["AAPL  240119C00190000"],
   "tf": "1m", "kind": "contract"}
      Live candles of those keys (api/candle_feed.py): `tf` and `kind` as /v1/candles reads
      them (tf 1m unless given; kind optional for a key with stored prints or an OCC symbol).
      Listing other channels too applies `symbols` to them as well.
  {"action": "unsubscribe", "channels": ["hits"]}   (no channels = all of them)
  {"action": "ping"}
  {"action": "auth", "key": "<API key>"}   the first message, when the handshake carried no
      key header (browsers cannot set one); API_AUTH=off needs none
  Commands are applied one at a time, in the order sent. Binary frames are answered with an
  error; the connection stays open. Browsers' Origin must be in API_ALLOWED_ORIGINS.

server -> client
  {"channel": "packets", "source": "live", "seq": <DERIVED stream sequence>, "events": [{...}]}
      one frame per DERIVED message and channel: the message's events that match the client's
      symbols, in order (a message none of them match sends nothing). `alpha` carries the
      CME alpha frames (`symbols` name roots: CL), the frames /v1/alpha/{root} stores.
  {"channel": "candles", "source": "live", "seq": <RAW stream sequence>, "data": {"key",
   "kind", "tf", "start_ns", "open", "high", "low", "close", "volume", "trades", ...}}
      the updated candle of a bucket (the same fields as /v1/candles), sent when a print
      changes it; `control` events `candles_incomplete` say a candle may miss stored prints.
  {"channel": "control", "event": "subscribed" | "unsubscribed" | "pong" | "error" |
   "dropped", ...}
      `subscribed` carries the stream position it starts after (`seq`); `dropped` tells a
      client too slow to keep up how many frames it lost (`dropped`, `dropped_total`).

One reader follows DERIVED from its end and hands each message, encoded once per distinct
symbol filter, to every matching client's bounded queue without waiting: a full queue drops
the frame for that client only and counts it. Each client has its own sender task. A frame
carries a whole micro-batch (hundreds of inference rows at a busy market's rate), so the
queue (1000 frames by default) holds many seconds of the tape.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec

from api.services import Services
from api.views import plain
from infra.bus import LogMessage, StreamReader
from infra.health import HealthTracker
from infra.tasks import cancel_and_wait
from schemas.events import Event
from schemas.subjects import DERIVED_STREAM

log = logging.getLogger("flowtape.api.tape")

CHANNELS: dict[str, str] = {
    "flow.drv.flow_packet": "packets",
    "flow.drv.alert": "alerts",
    "flow.drv.classifier_hit": "hits",
    "flow.drv.darkpool_event": "darkpool",
    "flow.drv.print_inference": "inference",
    "flow.drv.alpha_frame": "alpha",
}
CHANNEL_NAMES: tuple[str, ...] = tuple(CHANNELS.values())
_encode = msgspec.json.Encoder().encode


def event_symbol(event: Event) -> str:
    """What a client's `symbols` match: the underlying, the symbol, or an alpha frame's root."""
    found = getattr(event, "underlying", None) or getattr(event, "symbol", None)
    return str(found or getattr(event, "root", ""))


def frame(channel: str, seq: int, events: list[Any]) -> str:
    """A live data frame: one DERIVED message's events (as `plain` values) for one channel."""
    return _encode({"channel": channel, "source": "live", "seq": seq, "events": events}).decode()


def frames_for(
    channel: str, seq: int, events: Sequence[Event], clients: Iterable[Client]
) -> list[tuple[str, list[Client]]]:
    """The frame each group of `clients` (all following `channel`) gets from one message:
    the events its symbols match, encoded once per distinct filter; a group that matches
    none gets no frame. Each event becomes a JSON value at most once."""
    groups: dict[frozenset[str], list[Client]] = {}
    for client in clients:
        groups.setdefault(client.symbols, []).append(client)
    if not groups:
        return []
    plains: dict[int, Any] = {}

    def plain_at(i: int) -> Any:
        if i not in plains:
            plains[i] = plain(events[i])
        return plains[i]

    symbols = [event_symbol(e) for e in events] if any(groups) else []
    out = []
    for wanted, group in groups.items():
        chosen = range(len(events)) if not wanted else [
            i for i, symbol in enumerate(symbols) if symbol in wanted
        ]  # fmt: skip
        if chosen:
            out.append((frame(channel, seq, [plain_at(i) for i in chosen]), group))
    return out


def control(event: str, **fields: Any) -> str:
    return _encode({"channel": "control", "event": event, **fields}).decode()


@dataclass(eq=False)
class Client:
    """One WebSocket subscriber: its filter, its bounded outbox and counters.

    Data messages are bounded (`queue_size`); control messages (acks, errors, drop
    notices) always get through, in order with the data around them.
    """

    queue_size: int
    channels: set[str] = field(default_factory=set)
    symbols: frozenset[str] = frozenset()
    held: list[str] | None = None  # live messages waiting while a since_seq replay runs
    dropped_total: int = 0
    dropped_unreported: int = 0
    sent: int = 0
    _outbox: deque[tuple[bool, str]] = field(default_factory=deque)
    _data_queued: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _room: asyncio.Event = field(default_factory=asyncio.Event)

    def offer(self, text: str) -> bool:
        """Queue a data message without waiting; False (and counted) when the client is
        behind."""
        if self.held is not None:
            if len(self.held) < self.queue_size:
                self.held.append(text)
                return True
        elif self._data_queued < self.queue_size:
            self._push(True, text)
            return True
        self.dropped_total += 1
        self.dropped_unreported += 1
        return False

    async def put(self, text: str) -> None:
        """Queue a data message, waiting for room (replays: nothing is dropped)."""
        while self._data_queued >= self.queue_size:
            self._room.clear()
            await self._room.wait()
        self._push(True, text)

    def say(self, text: str) -> None:
        """Queue a control message (never dropped)."""
        self._push(False, text)

    def _push(self, is_data: bool, text: str) -> None:
        self._outbox.append((is_data, text))
        self._data_queued += is_data
        self._wake.set()

    async def next(self) -> str:
        """The next frame to send; a drop notice goes before the data that follows a loss."""
        while not self._outbox:
            self._wake.clear()
            await self._wake.wait()
        if self.dropped_unreported and self._outbox[0][0]:
            lost, self.dropped_unreported = self.dropped_unreported, 0
            return control("dropped", dropped=lost, dropped_total=self.dropped_total)
        is_data, text = self._outbox.popleft()
        if is_data:
            self._data_queued -= 1
            self.sent += 1
            self._room.set()
        return text


@dataclass
class TapeMetrics:
    messages_read: int = 0
    events_read: int = 0
    deliveries: int = 0
    dropped: int = 0
    reader_errors: int = 0


class Tape:
    """Follows DERIVED from its end and fans events out to the subscribed clients."""

    def __init__(self, services: Services, *, queue_size: int = 1000) -> None:
        self.services = services
        self.queue_size = queue_size
        self.clients: set[Client] = set()
        self.position: int | None = None  # last DERIVED sequence handed to clients
        self.ready = asyncio.Event()
        self.metrics = TapeMetrics()
        self.health = HealthTracker()  # a message read is a cycle; a reader failure an error
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="flowtape-tape")

    async def stop(self) -> None:
        await cancel_and_wait([self._task])

    async def _open(self) -> StreamReader:
        bus = await self.services.bus()
        last = await bus.end_of(DERIVED_STREAM)
        if self.position is None or last < self.position:
            # First start, or the stream was recreated: follow it from its current end.
            self.position = last
        return await bus.reader(DERIVED_STREAM, start_seq=self.position + 1)

    async def _run(self) -> None:
        reader: StreamReader | None = None
        try:
            while True:
                try:
                    if reader is None:
                        reader = await self._open()
                        self.ready.set()
                    messages = await reader.fetch(256, timeout_s=0.5)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:
                    self.metrics.reader_errors += 1
                    self.health.error(f"tape reader: {str(exc) or type(exc).__name__}"[:500])
                    self.ready.clear()
                    log.warning("tape reader: %s; reopening", str(exc) or type(exc).__name__)
                    reader = None
                    await asyncio.sleep(1.0)
                    continue
                for message in messages:
                    self.dispatch(message)
                if messages:
                    self.health.cycle()
        finally:
            if reader is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(reader.close(), 1.0)

    def dispatch(self, message: LogMessage) -> None:
        """Hand one stream message's events to the matching clients (never waits)."""
        self.metrics.messages_read += 1
        assert self.position is not None  # noqa: S101  (set by _open)
        if message.stream_seq <= self.position:
            return
        self.position = message.stream_seq
        channel = CHANNELS.get(message.subject)
        if channel is None or message.error is not None:
            return
        self.metrics.events_read += len(message.events)
        receivers = [c for c in self.clients if channel in c.channels]
        for text, group in frames_for(channel, message.stream_seq, message.events, receivers):
            for client in group:
                if client.offer(text):
                    self.metrics.deliveries += 1
                else:
                    self.metrics.dropped += 1

    async def subscribe(
        self, client: Client, channels: set[str], symbols: frozenset[str], since_seq: int | None
    ) -> int | None:
        """Set the client's filter, acknowledge, register. The ack's `seq` is the position
        after which live messages follow; when `since_seq` asks for earlier ones, live messages
        are held and that position is returned: `replay` sends what lies before it."""
        await asyncio.wait_for(self.ready.wait(), 5.0)
        assert self.position is not None  # noqa: S101  (ready)
        # From here to the registration nothing awaits: no message can fall in between.
        client.channels, client.symbols = channels, symbols
        upto = self.position
        replaying = since_seq is not None and since_seq <= upto
        client.say(
            control(
                "subscribed",
                seq=upto,
                channels=sorted(channels),
                symbols=sorted(symbols),
                replay_from=since_seq if replaying else None,
            )
        )
        if replaying:
            client.held = []  # live messages after `upto` wait here until the replay is done
        self.clients.add(client)
        return upto if replaying else None

    async def replay(self, client: Client, since_seq: int, upto: int) -> None:
        """Send the client's matching messages from `since_seq` to `upto`, then the live
        messages held meanwhile."""
        try:
            await self._replay(client, since_seq, upto)
        finally:
            self.release(client)

    def release(self, client: Client) -> None:
        """Queue the live messages held during a replay (one that ended or was cancelled)."""
        held, client.held = client.held or [], None
        for text in held:
            client.offer(text)

    async def _replay(self, client: Client, since_seq: int, upto: int) -> None:
        bus = await self.services.bus()
        reader = await bus.reader(DERIVED_STREAM, start_seq=since_seq)
        try:
            seq = since_seq - 1
            while seq < upto:
                messages = await reader.fetch(256, timeout_s=1.0)
                if not messages:
                    break  # the rest was deleted by the stream's limits
                for message in messages:
                    seq = message.stream_seq
                    if seq > upto:
                        break
                    channel = CHANNELS.get(message.subject)
                    if channel is None or message.error is not None:
                        continue
                    if channel in client.channels:
                        for text, _ in frames_for(channel, seq, message.events, [client]):
                            await client.put(text)
        finally:
            with contextlib.suppress(Exception):
                await reader.close()

    def unsubscribe(self, client: Client, channels: set[str] | None) -> None:
        if channels is None:
            client.channels = set()
        else:
            client.channels -= channels
        if not client.channels:
            self.clients.discard(client)

    def remove(self, client: Client) -> None:
        self.clients.discard(client)
