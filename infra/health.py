"""The one `/health` contract of every flowtape service (served by each, read by `ops.monitor`).

Every report holds `status` (`ok`, `degraded` or `down`), `uptime` (seconds), `lastCycle`
(when the service last finished a unit of work, ISO-8601 UTC, null before the first) and
`errors` (`count` within the recent window and the `last` message), then the service's own
fields. HTTP 200 means `ok`; a degraded or down service answers 503 with the same body, so a
plain HTTP check (docker compose, an uptime probe) cannot mistake it for healthy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any, Literal

from aiohttp import web

HealthStatus = Literal["ok", "degraded", "down"]
STATUSES: tuple[HealthStatus, ...] = ("ok", "degraded", "down")
RECENT_ERRORS_S = 300.0


def iso_utc(epoch_s: float | None) -> str | None:
    """`2026-01-02T14:30:00.123Z`, or None for never."""
    if epoch_s is None:
        return None
    moment = datetime.fromtimestamp(epoch_s, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


class HealthTracker:
    """A service's start, its last unit of work and its recent errors."""

    def __init__(
        self, *, window_s: float = RECENT_ERRORS_S, clock: Callable[[], float] = time.time
    ) -> None:
        self.window_s = window_s
        self.clock = clock
        self.started_at = clock()
        self.last_cycle: float | None = None
        self.last_error: str | None = None
        self._error_times: deque[float] = deque()
        self._failing: set[str] = set()
        self._work_done = 0
        self._failures = 0

    def cycle(self) -> None:
        """A unit of work is done (a batch stored, a step taken, an event published)."""
        self.last_cycle = self.clock()

    def error(self, message: str) -> None:
        """Something failed; it counts for `window_s` seconds."""
        self.last_error = message
        self._error_times.append(self.clock())

    def condition(self, name: str, failing: bool, message: str) -> None:
        """A named condition seen on each look (a server down): it counts as one error when
        it starts failing, and again only after it has cleared."""
        if failing and name not in self._failing:
            self._failing.add(name)
            self.error(message)
        elif not failing:
            self._failing.discard(name)

    def follow(self, work_done: int, failures: int, last_failure: str) -> None:
        """Catch up with a service's own running totals (batches stored, failed attempts):
        more work is a cycle now, each new failure an error now. Call it often."""
        if work_done > self._work_done:
            self.cycle()
        for _ in range(failures - self._failures):
            self.error(last_failure)
        self._work_done, self._failures = work_done, failures

    def recent_errors(self) -> int:
        horizon = self.clock() - self.window_s
        while self._error_times and self._error_times[0] < horizon:
            self._error_times.popleft()
        return len(self._error_times)

    def report(self, status: HealthStatus, **fields: Any) -> dict[str, Any]:
        """The contract's body: the common fields, then the service's own."""
        if status not in STATUSES:
            raise ValueError(f"expected a status among {STATUSES}, got {status!r}")
        return {
            "status": status,
            "uptime": round(self.clock() - self.started_at, 3),
            "lastCycle": iso_utc(self.last_cycle),
            "errors": {"count": self.recent_errors(), "last": self.last_error},
            **fields,
        }


def http_status(report: dict[str, Any]) -> int:
    """200 for `ok`, 503 for `degraded` and `down`."""
    return 200 if report["status"] == "ok" else 503


def health_handler(
    report: Callable[[], dict[str, Any]],
) -> Callable[[web.Request], Any]:
    """An aiohttp handler serving `report()` under the contract's status codes."""

    async def health(_: web.Request) -> web.Response:
        body = report()
        return web.json_response(body, status=http_status(body))

    return health


def text_handler(text: Callable[[], str], content_type: str) -> Callable[[web.Request], Any]:
    """An aiohttp handler serving `text()` (a `/metrics` exposition, say)."""

    async def serve(_: web.Request) -> web.Response:
        return web.Response(text=text(), headers={"Content-Type": content_type})

    return serve


# path -> (text, content type): more plain-text routes beside /health (`/metrics`)
TextRoutes = dict[str, tuple[Callable[[], str], str]]


async def serve_health(
    report: Callable[[], dict[str, Any]], host: str, port: int, routes: TextRoutes | None = None
) -> web.AppRunner:
    """Serve `/health` (and `routes`) on host:port (for services with no HTTP of their own);
    the runner's `cleanup()` stops it."""
    app = web.Application()
    app.router.add_get("/health", health_handler(report))
    for path, (text, content_type) in (routes or {}).items():
        app.router.add_get(path, text_handler(text, content_type))
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port).start()
    return runner


@contextlib.asynccontextmanager
async def health_served(
    report: Callable[[], dict[str, Any]],
    port: int | None,
    *,
    observe: Callable[[], None] = lambda: None,
    every_s: float = 0.5,
    routes: TextRoutes | None = None,
) -> AsyncIterator[None]:
    """While inside: `/health` (and `routes`) on 127.0.0.1:`port` (nothing when `port` is
    None), and `observe()` every `every_s` seconds so cycles and errors carry the time they
    happened."""
    if port is None:
        yield
        return

    async def keep_observing() -> None:
        while True:
            observe()
            await asyncio.sleep(every_s)

    runner = await serve_health(report, "127.0.0.1", port, routes)
    observing = asyncio.create_task(keep_observing())
    try:
        yield
    finally:
        observing.cancel()
        await runner.cleanup()
