"""Flow-alert delivery: each `Alert` on DERIVED to the webhooks of the subscribers whose
filter it passes, signed, at least once.

A POST is retried with a doubling delay until the webhook answers 2xx or the attempts run
out (a 4xx other than 408 and 429 ends the attempts at once: resending cannot fix it); an
alert a webhook never took goes to the dead-letter table. The position in DERIVED is saved
only after every subscriber's outcome for the message is settled, so a restart resends
rather than skips: receivers deduplicate on `X-Flowtape-Delivery`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
import msgspec

from infra.bus import Bus
from infra.files import write_json_atomically
from ops.dead_letters import DeadLetter, DeadLetterTable
from ops.signing import SIGNATURE_HEADER, sign
from ops.subscribers import Subscriber
from schemas.events import Alert
from schemas.subjects import DERIVED_STREAM, derived_subject

log = logging.getLogger("flowtape.deliver")

DELIVERY_HEADER = "X-Flowtape-Delivery"
POSITION_FILE = "delivery-position.json"  # in the data folder
_PERMANENT = range(400, 500)
_WORTH_RETRYING = {408, 429}


@dataclass(frozen=True)
class RetryPolicy:
    attempts: int = 6
    first_delay_s: float = 0.5
    max_delay_s: float = 30.0
    timeout_s: float = 10.0

    def delay_s(self, failed_attempts: int) -> float:
        return min(self.max_delay_s, self.first_delay_s * 2 ** (failed_attempts - 1))


@dataclass(frozen=True)
class Outcome:
    subscriber: str
    alert_id: str
    attempts: int
    delivered: bool
    last_error: str = ""


def delivery_id(alert: Alert, subscriber: Subscriber) -> str:
    return f"{alert.alert_id}:{subscriber.name}"


def alert_body(alert: Alert, subscriber: Subscriber) -> bytes:
    """The JSON a subscriber receives: the delivery id and the alert with its evidence."""
    return msgspec.json.encode(
        {"deliveryId": delivery_id(alert, subscriber), "subscriber": subscriber.name,
         "alert": alert}
    )  # fmt: skip


def plan(subscribers: list[Subscriber], alert: Alert) -> list[tuple[Subscriber, bytes]]:
    """What an alert sends: each subscriber it passes the filter of, and the body."""
    return [(s, alert_body(alert, s)) for s in subscribers if s.wants(alert)]


@dataclass
class AlertDelivery:
    """Sends alerts to webhooks and writes the ones never accepted to the dead letters."""

    subscribers: list[Subscriber]
    http: aiohttp.ClientSession
    dead_letters: DeadLetterTable
    run_id: str
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def deliver(self, alert: Alert, log_seq: int) -> list[Outcome]:
        """Every matching subscriber's outcome, after the failures are dead-lettered."""
        planned = plan(self.subscribers, alert)
        outcomes = await asyncio.gather(*(self._send(s, alert, body) for s, body in planned))
        letters = [
            DeadLetter(self.run_id, log_seq, alert.alert_id, s.name, s.url, o.attempts,
                       o.last_error, body)
            for (s, body), o in zip(planned, outcomes, strict=True)
            if not o.delivered
        ]  # fmt: skip
        if letters:
            await self._store(letters)
        return list(outcomes)

    async def _send(self, subscriber: Subscriber, alert: Alert, body: bytes) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(subscriber.secret, body),
            DELIVERY_HEADER: delivery_id(alert, subscriber),
        }
        timeout = aiohttp.ClientTimeout(total=self.policy.timeout_s)
        last_error = ""
        for attempt in range(1, self.policy.attempts + 1):
            try:
                async with self.http.post(
                    subscriber.url, data=body, headers=headers, timeout=timeout
                ) as response:
                    if 200 <= response.status < 300:
                        return Outcome(subscriber.name, alert.alert_id, attempt, True)
                    last_error = f"HTTP {response.status}"
                    if response.status in _PERMANENT and response.status not in _WORTH_RETRYING:
                        return Outcome(subscriber.name, alert.alert_id, attempt, False, last_error)
            except (aiohttp.ClientError, TimeoutError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if attempt < self.policy.attempts:
                delay = self.policy.delay_s(attempt)
                log.warning("alert %s to %s: %s; retrying in %gs",
                            alert.alert_id, subscriber.name, last_error, delay)  # fmt: skip
                await self.sleep(delay)
        return Outcome(subscriber.name, alert.alert_id, self.policy.attempts, False, last_error)

    async def _store(self, letters: list[DeadLetter]) -> None:
        """Insert, retrying while ClickHouse is away: the position must not pass them."""
        failures = 0
        while True:
            try:
                await asyncio.to_thread(self.dead_letters.add, letters)
                return
            except Exception as exc:
                failures += 1
                log.warning("dead letters not stored (%s); retrying", exc)
                await self.sleep(self.policy.delay_s(failures))


def load_position(path: Path) -> int:
    """The last DERIVED sequence whose alerts are settled (0 before any)."""
    try:
        return int(json.loads(path.read_text())["stream_seq"])
    except FileNotFoundError:
        return 0


async def run_delivery(
    bus: Bus,
    on_alert: Callable[[Alert, int], Awaitable[object]],
    *,
    start_seq: int,
    stop: asyncio.Event,
    until_idle: bool = False,
    position_path: Path | None = None,
) -> int:
    """Read the alerts of DERIVED from `start_seq`, awaiting `on_alert(alert, seq)` for each;
    after each message, save its sequence to `position_path`. Returns the last sequence."""
    subject = derived_subject(Alert)
    reader = await bus.reader(DERIVED_STREAM, start_seq=start_seq, filter_subject=subject)
    position = start_seq - 1
    try:
        while not stop.is_set():
            messages = await reader.fetch(64, timeout_s=0.5)
            if not messages and until_idle:
                return position
            for message in messages:
                if message.error is not None:
                    log.warning("DERIVED %d unreadable: %s", message.stream_seq, message.error)
                for event in message.events:
                    if isinstance(event, Alert):
                        await on_alert(event, message.stream_seq)
                position = message.stream_seq
                if position_path is not None:
                    write_json_atomically(position_path, {"stream_seq": position})
        return position
    finally:
        await reader.close()
