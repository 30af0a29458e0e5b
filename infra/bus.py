"""The log: JetStream streams RAW and DERIVED, acknowledged batched publishing, pulling.

One message carries one micro-batch of events of one type (schemas.codec). Every publish
waits for its acknowledgement and carries a content-addressed `Nats-Msg-Id`, so a retried
publish inside the duplicate window is stored once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import nats
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, StreamConfig
from nats.js.errors import NotFoundError

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

# Stay well under the server's max_payload (8 MB embedded, 1 MB default elsewhere).
MAX_MESSAGE_BYTES = 900_000


@dataclass(frozen=True, slots=True)
class LogMessage:
    """One message read back from a stream."""

    stream_seq: int
    subject: str
    run_id: str
    events: list[Event]
    raw: Msg
    error: str | None = None  # set for a poison message: its body is not a batch of events


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

    def __init__(self, nc: Client, js: JetStreamContext) -> None:
        self.nc = nc
        self.js = js

    @classmethod
    async def connect(cls, url: str, *, name: str = "flowtape", timeout_s: float = 10.0) -> Bus:
        nc = await nats.connect(url, name=name, max_reconnect_attempts=-1, reconnect_time_wait=0.5)
        return cls(nc, nc.jetstream(timeout=timeout_s))

    async def close(self) -> None:
        await self.nc.drain()

    async def ensure_streams(
        self, *, max_bytes: int = -1, duplicate_window_s: float = 120.0
    ) -> None:
        """Create RAW and DERIVED if missing, or update their limits (idempotent)."""
        for name, subjects in ((RAW_STREAM, RAW_SUBJECTS), (DERIVED_STREAM, DERIVED_SUBJECTS)):
            config = StreamConfig(
                name=name,
                subjects=[subjects],
                max_bytes=max_bytes,
                duplicate_window=duplicate_window_s,
            )
            try:
                await self.js.stream_info(name)
            except NotFoundError:
                await self.js.add_stream(config)
            else:
                await self.js.update_stream(config)

    async def publish(self, subject: str, events: Sequence[Event], *, run_id: str) -> list[int]:
        """Publish events as acknowledged messages; returns their stream sequences."""
        return [
            await self.publish_body(subject, body, run_id=run_id)
            for _, body in chunk_events(events)
        ]

    async def publish_body(self, subject: str, body: bytes, *, run_id: str) -> int:
        """Publish one encoded batch and wait for its acknowledgement; returns its sequence.

        The message id is the body's content hash: resending the same body after a failed
        acknowledgement is stored once within the stream's duplicate window.
        """
        headers = {
            "Nats-Msg-Id": message_id(subject.encode() + b"\0" + run_id.encode() + body),
            RUN_ID_HEADER: run_id,
            SCHEMA_HEADER: str(SCHEMA_VERSION),
        }
        ack = await self.js.publish(subject, body, headers=headers)
        return int(ack.seq)

    async def last_sequence(self, stream: str) -> int:
        info = await self.js.stream_info(stream)
        return int(info.state.last_seq)

    async def reader(
        self, stream: str, *, start_seq: int, filter_subject: str | None = None
    ) -> StreamReader:
        """Read `stream` in order from `start_seq` (ephemeral pull consumer, explicit acks off)."""
        config = ConsumerConfig(
            deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=max(1, start_seq),
            ack_policy=AckPolicy.NONE,
            filter_subject=filter_subject,
            inactive_threshold=60.0,
        )
        subject = filter_subject or (RAW_SUBJECTS if stream == RAW_STREAM else DERIVED_SUBJECTS)
        subscription = await self.js.pull_subscribe(subject, stream=stream, config=config)
        return StreamReader(subscription)


class StreamReader:
    """Ordered batches of `LogMessage`s from one stream position onwards."""

    def __init__(self, subscription: JetStreamContext.PullSubscription) -> None:
        self._subscription = subscription

    async def fetch(self, max_messages: int = 256, timeout_s: float = 1.0) -> list[LogMessage]:
        """Up to `max_messages` messages; an empty list when none arrived within the timeout."""
        try:
            messages = await self._subscription.fetch(max_messages, timeout=timeout_s)
        except (TimeoutError, nats.errors.TimeoutError):
            return []
        return [decode_message(message) for message in messages]

    async def close(self) -> None:
        await self._subscription.unsubscribe()


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
    )
