"""The monitor: polls every service's `/health` and ClickHouse, applies the named rules and
sends one alert when a rule starts firing for a target and one recovery notice when it stops.

Rules: `service_down` (no answer, or `status: down`), `degraded` (degraded for
`degraded_polls` polls in a row), `backlog_growing` (`backlogSize` rising across
`backlog_polls` polls and at least `backlog_min`), `stale` (`lastCycle` older than
`stale_after_s`), `lagging` (a follower's `lastCycle` behind its leader's by more than
`max_lag_s`), `clickhouse_down`, `jetstream_down` (NATS's monitoring `/healthz` with
JetStream) and `stale_data` (a source's newest market data on the log older than its
`max_age_s` while its market is open; ops.market_hours). A stream consumer's lag is the
service's own figure (the sink's `backlogSize`), judged by `backlog_growing`.

`stale_data` counts silence only from the later of the market's opening and the monitor's
start (data cannot be due before either), and holds its last verdict while the log cannot
be read (`jetstream_down` says why).
"""

from __future__ import annotations

import asyncio
import math
import time
import urllib.parse
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

import aiohttp

from infra.health import HealthTracker, iso_utc
from ops.market_hours import open_since
from ops.monitor_config import MonitorConfig, Source
from ops.notify import Notice, send
from ops.source_activity import SourceActivity

Condition = tuple[str, str]  # (rule, target)
STALE_DATA = "stale_data"


def _endpoint(base_url: str, path: str) -> str:
    """`path` on the server of `base_url`, without the credentials it may carry."""
    parts = urllib.parse.urlsplit(base_url)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{parts.hostname}{port}{path}"


class Monitor:
    """`poll()` once per period; `notices` keeps everything sent, in order."""

    def __init__(
        self,
        config: MonitorConfig,
        http: aiohttp.ClientSession,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self.http = http
        self.clock = clock
        self.tracker = HealthTracker(clock=clock)
        self.active: dict[Condition, str] = {}
        self.notices: list[Notice] = []
        self._degraded_polls: dict[str, int] = defaultdict(int)
        window = config.rules.backlog_polls
        self._backlogs: dict[str, deque[int]] = defaultdict(lambda: deque(maxlen=window))
        self.started_at = clock()
        self.activity = SourceActivity(config.nats_url) if config.sources else None

    async def poll(self) -> dict[Condition, str]:
        """Look at everything once, notify what started or stopped; the firing conditions."""
        firing: dict[Condition, str] = {}
        bodies = await asyncio.gather(*(self._read(url) for url in self.config.services.values()))
        for name, (body, failure) in zip(self.config.services, bodies, strict=True):
            firing.update(self._judge(name, body, failure))
        cycles = {
            name: datetime.fromisoformat(body["lastCycle"]).timestamp()
            for name, (body, _) in zip(self.config.services, bodies, strict=True)
            if body is not None and isinstance(body.get("lastCycle"), str)
        }
        for pair in self.config.rules.follows:
            if pair.follower in cycles and pair.leader in cycles:
                lag = cycles[pair.leader] - cycles[pair.follower]
                if lag > pair.max_lag_s:
                    message = f"last cycle {lag:.0f} s behind {pair.leader}'s"
                    firing[("lagging", pair.follower)] = message
        if self.config.clickhouse_url and not await self._answers(
            _endpoint(self.config.clickhouse_url, "/ping")
        ):
            firing[("clickhouse_down", "clickhouse")] = "no answer to /ping"
        if self.config.nats_monitor_url and not await self._answers(
            _endpoint(self.config.nats_monitor_url, "/healthz?js-enabled-only=true")
        ):
            firing[("jetstream_down", "nats")] = "JetStream not healthy (/healthz)"
        firing.update(await self._judge_sources())
        await self._notify(firing)
        self.tracker.cycle()
        return firing

    def report(self) -> dict[str, Any]:
        """The monitor's own /health: ok, with the rules firing now."""
        firing = [f"{rule} {target}" for rule, target in sorted(self.active)]
        return self.tracker.report("ok", firing=firing, notices=len(self.notices))

    async def _read(self, url: str) -> tuple[dict[str, Any] | None, str]:
        try:
            timeout = aiohttp.ClientTimeout(total=self.config.health_timeout_s)
            async with self.http.get(url, timeout=timeout) as response:
                body = await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            return None, f"no answer ({type(exc).__name__})"
        if not isinstance(body, dict) or body.get("status") not in ("ok", "degraded", "down"):
            return None, "an answer outside the health contract"
        return body, ""

    def _judge(self, name: str, body: dict[str, Any] | None, failure: str) -> dict[Condition, str]:
        rules = self.config.rules
        if body is None or body["status"] == "down":
            self._degraded_polls[name] = 0
            self._backlogs[name].clear()
            errors = (body or {}).get("errors") or {}
            return {("service_down", name): failure or f"down: {errors.get('last')}"}
        found: dict[Condition, str] = {}
        self._degraded_polls[name] = (
            self._degraded_polls[name] + 1 if body["status"] == "degraded" else 0
        )
        if self._degraded_polls[name] >= rules.degraded_polls:
            found[("degraded", name)] = f"degraded for {self._degraded_polls[name]} polls"
        backlog = body.get("backlogSize")
        if isinstance(backlog, int):
            seen = self._backlogs[name]
            seen.append(backlog)
            rising = all(a < b for a, b in zip(seen, list(seen)[1:], strict=False))
            if len(seen) == rules.backlog_polls and rising and backlog >= rules.backlog_min:
                found[("backlog_growing", name)] = f"backlogSize {list(seen)}"
        last_cycle = body.get("lastCycle")
        if isinstance(last_cycle, str):
            age = self.clock() - datetime.fromisoformat(last_cycle).timestamp()
            if age > rules.stale_after_s:
                found[("stale", name)] = f"last cycle {age:.0f} s ago"
        return found

    async def _judge_sources(self) -> dict[Condition, str]:
        if self.activity is None:
            return {}
        seen = await self.activity.last_data(list(self.config.sources))
        if seen is None:  # the log cannot be read: keep what was said
            return {c: m for c, m in self.active.items() if c[0] == STALE_DATA}
        now, found = self.clock(), {}
        for name, source in self.config.sources.items():
            silent = data_silence_s(source, seen[name], now, self.started_at)
            if silent is not None and silent > source.max_age_s:
                last = seen[name]
                newest = f"newest data at {iso_utc(last)}" if last else "no data on the log"
                message = (
                    f"{newest}: {silent:.0f} s of open market without (max {source.max_age_s:g} s)"
                )
                found[(STALE_DATA, name)] = message
        return found

    async def _answers(self, url: str) -> bool:
        try:
            async with self.http.get(url, timeout=aiohttp.ClientTimeout(total=3)) as response:
                return response.status == 200
        except (aiohttp.ClientError, TimeoutError):
            return False

    async def _notify(self, firing: dict[Condition, str]) -> None:
        now = iso_utc(self.clock()) or ""
        started = [(c, m, "firing") for c, m in firing.items() if c not in self.active]
        stopped = [(c, "back to normal", "recovered") for c in self.active if c not in firing]
        for (rule, target), message, state in [*started, *stopped]:
            notice = Notice(rule, target, state, message, now)
            self.notices.append(notice)
            sent = await asyncio.gather(
                *(send(self.http, ch, notice) for ch in self.config.channels)
            )
            if not all(sent):
                self.tracker.error(f"notice {rule} {target} not delivered to every channel")
        self.active = {c: firing[c] for c in firing}

    async def run(self, stop: asyncio.Event) -> None:
        """Poll every `poll_every_s` seconds until `stop` is set."""
        try:
            while not stop.is_set():
                await self.poll()
                try:
                    await asyncio.wait_for(stop.wait(), self.config.poll_every_s)
                except TimeoutError:
                    continue
        finally:
            await self.close()

    async def close(self) -> None:
        """Let go of the log connection (when sources are watched)."""
        if self.activity is not None:
            await self.activity.close()


def data_silence_s(
    source: Source, last_data: float | None, now: float, watching_since: float
) -> float | None:
    """How long `source`'s market has been open without data from it, counted from the
    latest of its newest data, the market's opening and `watching_since`; None while its
    market is closed."""
    opened = open_since(source.hours, now)
    if opened is None:
        return None
    return now - max(last_data or -math.inf, opened, watching_since)
