"""The servers behind the API: found through infra.stack, connected lazily, health-checked.

A server that is down when the API starts, or goes down later, does not stop the API: its
endpoints answer 503 and /health says which component is down, and the next request that
needs it tries to connect again.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from infra.bus import Bus
from infra.migrate import migrate
from infra.settings import Settings
from infra.stack import Stack, is_healthy
from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError

log = logging.getLogger("flowtape.api")

# A failed connection attempt is not retried more often than this (per component).
RETRY_AFTER_S = 1.0


class Unavailable(FlowtapeError):
    """A server the request needs is down; the API answers 503."""

    code = "unavailable"


@dataclass
class Services:
    """The API's connections: one Warehouse (thread-safe, no session) and one Bus."""

    settings: Settings
    migrate_schema: bool = False  # apply ClickHouse migrations once connected
    stack: Stack | None = None
    urls: dict[str, str] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    _warehouse: Warehouse | None = None
    _bus: Bus | None = None
    _warehouse_lock: threading.Lock = field(default_factory=threading.Lock)
    _bus_lock: asyncio.Lock | None = None
    _last_attempt: dict[str, float] = field(default_factory=dict)
    _errors: dict[str, str] = field(default_factory=dict)

    async def open(self) -> None:
        """Find the servers (starting embedded ones only when none is configured or running)
        and connect to what answers."""
        self.stack = Stack(self.settings, needs=("nats", "clickhouse"))
        await asyncio.to_thread(self.stack.start)
        for component, endpoint in self.stack.endpoints.items():
            self.urls[component] = endpoint.url
            self.origins[component] = endpoint.origin
        redis = self.stack.locate("redis", self.stack.recorded_up())
        if redis is not None:
            self.urls["redis"] = redis.url
            self.origins["redis"] = redis.origin
        self._bus_lock = asyncio.Lock()
        await asyncio.to_thread(self._try_warehouse)
        await self._try_bus()

    async def close(self) -> None:
        bus, self._bus = self._bus, None
        if bus is not None:
            try:
                await asyncio.wait_for(bus.close(), 5.0)
            except (TimeoutError, Exception):  # a dead server cannot be drained
                await bus.nc.close()
        warehouse, self._warehouse = self._warehouse, None
        if warehouse is not None:
            warehouse.close()
        if self.stack is not None:
            await asyncio.to_thread(self.stack.stop)

    # ------------------------------------------------------------------ ClickHouse

    def _due(self, component: str) -> bool:
        last = self._last_attempt.get(component, 0.0)
        return time.monotonic() - last >= RETRY_AFTER_S

    def _try_warehouse(self) -> Warehouse | None:
        with self._warehouse_lock:
            if self._warehouse is not None:
                return self._warehouse
            if not self._due("clickhouse"):
                return None
            self._last_attempt["clickhouse"] = time.monotonic()
            try:
                warehouse = Warehouse.connect(
                    self.urls["clickhouse"], self.settings.clickhouse_database
                )
                if self.migrate_schema:
                    migrate(warehouse)
                self._warehouse = warehouse
                self._errors.pop("clickhouse", None)
            except Exception as exc:
                self._errors["clickhouse"] = _short(exc)
                log.warning("ClickHouse unavailable: %s", self._errors["clickhouse"])
            return self._warehouse

    def warehouse(self) -> Warehouse:
        """The Warehouse, or Unavailable (blocking: call from a worker thread)."""
        warehouse = self._try_warehouse()
        if warehouse is None:
            raise Unavailable(
                f"ClickHouse at {self.urls.get('clickhouse')} is unavailable: "
                f"{self._errors.get('clickhouse', 'retrying')}"
            )
        return warehouse

    # ------------------------------------------------------------------ NATS

    async def _try_bus(self) -> Bus | None:
        if self._bus is not None:
            return self._bus
        assert self._bus_lock is not None  # noqa: S101  (open() ran)
        async with self._bus_lock:
            if self._bus is not None or not self._due("nats"):
                return self._bus
            self._last_attempt["nats"] = time.monotonic()
            try:
                self._bus = await asyncio.wait_for(
                    Bus.connect(self.urls["nats"], name="flowtape-api"), 5.0
                )
                self._errors.pop("nats", None)
            except Exception as exc:
                self._errors["nats"] = _short(exc) or type(exc).__name__
                log.warning("NATS unavailable: %s", self._errors["nats"])
            return self._bus

    async def bus(self) -> Bus:
        bus = await self._try_bus()
        if bus is None:
            raise Unavailable(
                f"NATS at {self.urls.get('nats')} is unavailable: "
                f"{self._errors.get('nats', 'retrying')}"
            )
        return bus

    # ------------------------------------------------------------------ health

    async def health(self) -> dict[str, dict[str, Any]]:
        """Each component: url, origin, up, and a detail when it is down."""
        report: dict[str, dict[str, Any]] = {}
        for component, url in self.urls.items():
            probe = await asyncio.to_thread(is_healthy, component, url)  # type: ignore[arg-type]
            up = probe
            detail = "" if probe else f"no answer from {url}"
            if probe and component == "clickhouse":
                up, detail = await asyncio.to_thread(self._clickhouse_answers)
            elif probe and component == "nats":
                bus = await self._try_bus()
                up = bus is not None and bus.nc.is_connected
                detail = "" if up else f"API not connected: {self._errors.get('nats', '')}"
            report[component] = {"url": url, "origin": self.origins.get(component, ""),
                                 "up": up, **({"detail": detail} if detail else {})}  # fmt: skip
        return report

    def _clickhouse_answers(self) -> tuple[bool, str]:
        try:
            self.warehouse().scalar("SELECT 1")
        except Exception as exc:
            return False, _short(exc)
        return True, ""


def _short(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
