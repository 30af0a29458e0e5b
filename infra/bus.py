"""The log: JetStream streams RAW and DERIVED, acknowledged batched publishing, pulling.

One message carries one micro-batch of events of one type (schemas.codec). Every publish
waits for its acknowledgement and carries a content-addressed `Nats-Msg-Id`, so a retried
publish inside the duplicate window is stored once. That is what carries a publisher across
a stream leader election in a NATS cluster: the acknowledgement times out, the same message
goes again until a leader answers.

NATS_URL may name several seeds, comma-separated (every node of a cluster); a Bus given
several seeds keeps resending for up to `CLUSTER_PUBLISH_PATIENCE_S`, one given a single
server fails at once and leaves retrying to its caller, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, Header, StreamConfig
from nats.js.errors import NoStreamResponseError, NotFoundError, ServiceUnavailableError

from infra.settings import get_settings
from schemas.codec import CodecError, decode_batch, encode_batch
from schemas.events import SCHEMA_VERSION, Event
from schemas.ids import message_id
from schemas.subjects import (
    DERIVED_STREAM,
    DERIVED_SUBJECTS,
    RAW_STREAM,
    RAW_SUBJECTS,
    RUN_ID_HEADER,
    SCHEMA_HEADER,
)

# Who published a message (e.g. `compute/p0of2`), when its publisher says: the sink keeps
# some state per producer (live/sink/singles.py). Not part of the message id.
PRODUCER_HEADER = "Flowtape-Producer"
# Stay well under the server's max_payload (8 MB embedded, 1 MB default elsewhere).
MAX_MESSAGE_BYTES = 900_000
PULL_BYTES = 8_000_000  # about this much per pull (larger pulls trip slow-consumer limits)
PULL_EXPIRES_S = 5.0  # an outstanding pull lasts this long on the server at most
CONSUMER_IDLE_S = 3_600.0  # a reader's consumer outlives long pauses (a slow ClickHouse)
# In a cluster a publish waits this long for its acknowledgement before sending the same
# message again (an election leaves a stream without a leader for a few seconds) ...
PUBLISH_ATTEMPT_S = 2.0
# ... and gives up after this long; well inside the stream's duplicate window.
CLUSTER_PUBLISH_PATIENCE_S = 60.0
# No leader (yet), no responder, a timed-out acknowledgement: worth sending again.
_RETRYABLE = (nats.errors.TimeoutError, NoStreamResponseError, ServiceUnavailableError)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class LogMessage:
    """One message read back from a stream."""

    stream_seq: int
    subject: str
    run_id: str
    events: list[Event]
    raw: Msg
    error: str | None = None  # set for a poison message: its body is not a batch of events
    producer: str = ""  # the PRODUCER_HEADER, "" when the publisher gave none


def chunk_events(
    events: Sequence[Event], max_bytes: int = MAX_MESSAGE_BYTES
) -> list[tuple[int, bytes]]:
    """Encode events into message bodies of at most `max_bytes` (one event may exceed it);
    each body comes with the number of events it holds."""
    chunks: list[tuple[int, bytes]] = []
    start = 0
    step = max(1, len(events))
    while start < len(events):
        body = encode_batch(events[start : start + step])
        if len(body) > max_bytes and step > 1:
            step = max(1, step // 2)
            continue
        chunks.append((min(step, len(events) - start), body))
        start += step
    return chunks


class Bus:
    """A JetStream connection with flowtape's streams."""

    def __init__(
        self, nc: Client, js: JetStreamContext, *, publish_patience_s: float = 0.0
    ) -> None:
        self.nc = nc
        self.js = js
        self.publish_patience_s = publish_patience_s  # 0: one attempt per publish

    @classmethod
    async def connect(cls, url: str, *, name: str = "flowtape", timeout_s: float = 10.0) -> Bus:
        """Connect to `url`: one server, or the seeds of a cluster comma-separated."""
        seeds = [seed.strip() for seed in url.split(",") if seed.strip()]
        nc = await nats.connect(
            servers=seeds, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5
        )
        patience = CLUSTER_PUBLISH_PATIENCE_S if len(seeds) > 1 else 0.0
        return cls(nc, nc.jetstream(timeout=timeout_s), publish_patience_s=patience)

    async def close(self) -> None:
        await self.nc.drain()

    async def ensure_streams(
        self,
        *,
        max_bytes: int | None = None,
        duplicate_window_s: float | None = None,
        replicas: int = 0,
    ) -> None:
        """Create RAW and DERIVED if missing, or update their limits (idempotent), with
        `replicas` copies of each; 0 keeps an existing stream's copies and creates a new one
        with FLOWTAPE_STREAM_REPLICAS (so a caller that does not say never shrinks them).
        Limits not given are the settings' (STREAM_MAX_BYTES, STREAM_DUPLICATE_WINDOW_S), so
        every service keeps the same retention whichever updates the streams last."""
        settings = get_settings()
        for name, subjects in ((RAW_STREAM, RAW_SUBJECTS), (DERIVED_STREAM, DERIVED_SUBJECTS)):
            config = StreamConfig(
                name=name,
                subjects=[subjects],
                max_bytes=settings.stream_max_bytes if max_bytes is None else max_bytes,
                duplicate_window=(
                    settings.stream_duplicate_window_s
                    if duplicate_window_s is None
                    else duplicate_window_s
                ),
            )
            try:
                info = await self.js.stream_info(name)
            except NotFoundError:
                config.num_replicas = replicas or settings.stream_replicas
                await self.js.add_stream(config)
            else:
                config.num_replicas = replicas or info.config.num_replicas
                await self.js.update_stream(config)

    async def publish(
        self, subject: str, events: Sequence[Event], *, run_id: str, producer: str = ""
    ) -> list[int]:
        """Publish events as acknowledged messages (naming their `producer` when given);
        returns their stream sequences."""
        return [
            await self.publish_body(subject, body, run_id=run_id, producer=producer)
            for _, body in chunk_events(events)
        ]

    async def publish_body(
        self, subject: str, body: bytes, *, run_id: str, producer: str = ""
    ) -> int:
        """Publish one encoded batch and wait for its acknowledgement; returns its sequence.

        The message id is the body's content hash: resending the same body after a failed
        acknowledgement is stored once within the stream's duplicate window. With
        `publish_patience_s` the same body is resent until acknowledged or that time is up.
        """
        headers = {
            "Nats-Msg-Id": message_id(subject.encode() + b"\0" + run_id.encode() + body),
            RUN_ID_HEADER: run_id,
            SCHEMA_HEADER: str(SCHEMA_VERSION),
        }
        if producer:
            headers[PRODUCER_HEADER] = producer
        deadline = time.monotonic() + self.publish_patience_s
        attempt_s = PUBLISH_ATTEMPT_S if self.publish_patience_s else None  # None: js default
        delay = 0.05
        while True:
            try:
                ack = await self.js.publish(subject, body, headers=headers, timeout=attempt_s)
            except _RETRYABLE as exc:
                if time.monotonic() + delay >= deadline:
                    raise
                log.warning("%s: publish not acknowledged (%r); sending again", subject, exc)
                await asyncio.sleep(delay)
                delay = min(2 * delay, 1.0)
                continue
            return int(ack.seq)

    async def stream_leader(self, stream: str) -> str:
        """The server name of the node leading `stream` in a cluster ('' on a single node)."""
        info = await self.js.stream_info(stream)
        return (info.cluster.leader or "") if info.cluster is not None else ""

    async def last_sequence(self, stream: str) -> int:
        info = await self.js.stream_info(stream)
        return int(info.state.last_seq)

    async def end_of(self, stream: str) -> int:
        """The last sequence of `stream`; a reader that comes up before any writer creates the
        streams first, as the writers would."""
        try:
            return await self.last_sequence(stream)
        except NotFoundError:
            await self.ensure_streams()
            return await self.last_sequence(stream)

    async def last_sequence_of(self, stream: str, subjects: Sequence[str]) -> int:
        """The sequence of the last message on any of `subjects` (wildcards allowed); 0 when
        none has any."""
        last = 0
        for subject in subjects:
            try:
                message = await self.js.get_last_msg(stream, subject)
            except NotFoundError:
                continue
            last = max(last, int(message.seq or 0))
        return last

    async def reader(
        self,
        stream: str,
        *,
        start_seq: int,
        filter_subject: str | None = None,
        max_bytes: int = PULL_BYTES,
        filter_subjects: Sequence[str] = (),
    ) -> StreamReader:
        """Read `stream` in order from `start_seq` (see `StreamReader`), only `filter_subject`
        or, when given, any of `filter_subjects`."""
        reader = StreamReader(self, stream, start_seq, filter_subject, max_bytes)
        reader.filter_subjects = list(filter_subjects)
        await reader.open()
        return reader


class StreamReader:
    """Ordered batches of `LogMessage`s from one stream position onwards, none skipped.

    An ephemeral consumer without acks, pulled by hand: exactly one pull request is
    outstanding at a time, and its deliveries wait in `_ready` until `fetch` takes them. So
    `fetch` returns as soon as anything has come (a caught-up reader holds no message for a
    batch to fill), while what is in flight stays within one pull: nats-server drops a client
    as a slow consumer when pulls overlap and deliver too much at once. Pulls are sized by
    bytes (`max_bytes`, from a running mean of message sizes). A pull ends when its batch is
    delivered or the server says it ended (408 expired, 404 nothing now, 409); the next one
    goes out when `fetch` finds none outstanding, so a batch is on its way while the caller
    works on the last. A pull that expires with messages in flight loses those deliveries;
    the consumer sequence reveals such a gap, and the reader then opens a new consumer right
    after the last message it returned. In a cluster the consumer lives on one node; when
    that node is gone (no responder, 503) the reader opens a new consumer the same way.
    """

    def __init__(
        self, bus: Bus, stream: str, start_seq: int, filter_subject: str | None, max_bytes: int
    ) -> None:
        self.bus = bus
        self.stream = stream
        self.next_seq = max(1, start_seq)
        self.filter_subject = filter_subject
        self.filter_subjects: list[str] = []  # several subjects (NATS 2.10 filter_subjects)
        self.max_bytes = max_bytes
        self.reopened = 0
        self._consumer: str | None = None
        self._inbox = ""
        self._subscription: Subscription | None = None
        self._consumer_seq = 0
        self._message_bytes = float(MAX_MESSAGE_BYTES)  # running mean; starts pessimistic
        self._ready: deque[Msg] = deque()  # delivered, not yet returned
        self._arrived = asyncio.Event()
        self._pull_left = 0  # deliveries the outstanding pull may still bring (0: none)
        self._pull_deadline = 0.0  # past this, a pull whose end was never heard is over
        self._lost = ""  # why the consumer is gone (its node died, it was deleted)

    async def open(self) -> None:
        await self.close()
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=self.next_seq,
            ack_policy=AckPolicy.NONE,
            filter_subject=self.filter_subject,
            filter_subjects=self.filter_subjects or None,
            inactive_threshold=CONSUMER_IDLE_S,
        )
        info = await self.bus.js.add_consumer(self.stream, config)
        self._consumer = info.name
        self._inbox = self.bus.nc.new_inbox()
        self._subscription = await self.bus.nc.subscribe(self._inbox, cb=self._deliver)
        self._consumer_seq, self._pull_left, self._lost = 0, 0, ""
        self._ready.clear()

    async def _deliver(self, message: Msg) -> None:
        headers = message.headers or {}
        status = None if message.data else headers.get(Header.STATUS)
        if status is None:
            self._ready.append(message)
            self._pull_left = max(0, self._pull_left - 1)
        elif status == "100":
            return  # a heartbeat
        else:
            self._pull_left = 0
            description = headers.get(Header.DESCRIPTION, "")
            # 404 nothing now, 408 expired, 409 a limit or a leader change: the pull ended.
            # 409 consumer deleted, 503 no responder (the consumer's node is gone): lost.
            ended = status in ("404", "408") or (
                status == "409" and "deleted" not in description.lower()
            )
            if not ended:
                self._lost = f"{status} {description}".strip()
        self._arrived.set()

    async def _pull(self, max_messages: int) -> None:
        count = max(1, min(max_messages, int(self.max_bytes // max(1.0, self._message_bytes))))
        request = {"batch": count, "expires": int(PULL_EXPIRES_S * 1e9)}
        self._pull_left = count
        self._pull_deadline = time.monotonic() + PULL_EXPIRES_S + 2.0
        await self.bus.nc.publish(
            f"$JS.API.CONSUMER.MSG.NEXT.{self.stream}.{self._consumer}",
            json.dumps(request).encode(),
            reply=self._inbox,
        )

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[LogMessage]:
        """Up to `max_messages` messages in stream order; [] when none came in time."""
        if self._subscription is None:
            await self.open()
        deadline = time.monotonic() + timeout_s
        while not self._ready:
            if self._lost:
                log.warning(
                    "%s: consumer lost (%s); reading again from %d",
                    self.stream,
                    self._lost,
                    self.next_seq,
                )
                self.reopened += 1
                await self.open()
                return []
            if not self._pull_left or time.monotonic() > self._pull_deadline:
                await self._pull(max_messages)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            self._arrived.clear()
            try:
                await asyncio.wait_for(self._arrived.wait(), remaining)
            except TimeoutError:
                return []
        if not self._pull_left and not self._lost and len(self._ready) <= max_messages:
            await self._pull(max_messages)  # the next batch comes while this one is used
        out: list[LogMessage] = []
        while self._ready and len(out) < max_messages:
            message = self._ready.popleft()
            if message.metadata.sequence.consumer != self._consumer_seq + 1:
                log.warning("%s: delivery gap; reading again from %d", self.stream, self.next_seq)
                self.reopened += 1
                await self.open()
                break
            self._consumer_seq += 1
            self._message_bytes = 0.8 * self._message_bytes + 0.2 * len(message.data)
            decoded = decode_message(message)
            if decoded.stream_seq < self.next_seq:
                continue
            out.append(decoded)
            self.next_seq = decoded.stream_seq + 1
        return out

    async def close(self) -> None:
        """Unsubscribe and delete the consumer: left to its idle threshold, every reopen
        would leave one behind on the server for an hour."""
        subscription, self._subscription = self._subscription, None
        consumer, self._consumer = self._consumer, None
        if subscription is not None:
            with contextlib.suppress(Exception):
                await subscription.unsubscribe()
        if consumer is not None:
            try:
                await self.bus.js.delete_consumer(self.stream, consumer)
            except Exception as exc:  # the consumer may be gone already (server restarted)
                log.debug("%s: closing a consumer: %r", self.stream, exc)
        self._ready.clear()
        self._pull_left = 0


def decode_message(message: Msg) -> LogMessage:
    """A stream message as events; a poison body comes back with `error` set, not raised."""
    headers = message.headers or {}
    try:
        events, error = decode_batch(message.data), None
    except CodecError as exc:
        events, error = [], str(exc)
    return LogMessage(
        stream_seq=message.metadata.sequence.stream,
        subject=message.subject,
        run_id=headers.get(RUN_ID_HEADER, ""),
        events=events,
        raw=message,
        error=error,
        producer=headers.get(PRODUCER_HEADER, ""),
    )
