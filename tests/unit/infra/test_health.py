"""The health contract: common fields, recent errors, status codes, served over HTTP."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import aiohttp
import pytest

from infra.embedded import free_port
from infra.health import HealthTracker, http_status, serve_health


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_a_fresh_service_has_no_cycle_and_no_errors() -> None:
    clock = Clock(1_700_000_000.0)
    tracker = HealthTracker(clock=clock)
    clock.now += 12.5
    assert tracker.report("ok", backlogSize=3) == {
        "status": "ok",
        "uptime": 12.5,
        "lastCycle": None,
        "errors": {"count": 0, "last": None},
        "backlogSize": 3,
    }


def test_last_cycle_is_the_utc_time_of_the_last_unit_of_work() -> None:
    clock = Clock(datetime(2026, 3, 2, 14, 30, 0, 250_000, tzinfo=UTC).timestamp())
    tracker = HealthTracker(clock=clock)
    tracker.cycle()
    clock.now += 60
    assert tracker.report("ok")["lastCycle"] == "2026-03-02T14:30:00.250Z"


def test_errors_count_only_within_the_window_and_keep_the_last_message() -> None:
    clock = Clock(1000.0)
    tracker = HealthTracker(window_s=60, clock=clock)
    tracker.error("insert failed")
    clock.now += 30
    tracker.error("fetch timed out")
    assert tracker.report("degraded")["errors"] == {"count": 2, "last": "fetch timed out"}
    clock.now += 31  # the first is 61 s old
    assert tracker.report("degraded")["errors"] == {"count": 1, "last": "fetch timed out"}
    clock.now += 30
    assert tracker.report("ok")["errors"] == {"count": 0, "last": "fetch timed out"}


def test_a_condition_counts_once_while_it_lasts_and_again_after_it_clears() -> None:
    tracker = HealthTracker()
    for _ in range(3):
        tracker.condition("clickhouse", True, "clickhouse: no answer")
    tracker.condition("nats", False, "nats: fine")
    assert tracker.report("degraded")["errors"] == {"count": 1, "last": "clickhouse: no answer"}
    tracker.condition("clickhouse", False, "")
    tracker.condition("clickhouse", True, "clickhouse: refused")
    assert tracker.report("degraded")["errors"] == {"count": 2, "last": "clickhouse: refused"}


def test_an_unknown_status_is_refused() -> None:
    with pytest.raises(ValueError, match="expected a status"):
        HealthTracker().report("fine")  # type: ignore[arg-type]


@pytest.mark.parametrize(("status", "code"), [("ok", 200), ("degraded", 503), ("down", 503)])
def test_only_ok_answers_200(status: str, code: int) -> None:
    assert http_status({"status": status}) == code


async def test_serve_health_answers_each_status_with_its_code_and_body() -> None:
    tracker = HealthTracker()
    state: dict[str, Any] = {"status": "ok"}
    port = free_port()
    runner = await serve_health(lambda: tracker.report(state["status"]), "127.0.0.1", port)
    try:
        async with aiohttp.ClientSession() as http:
            for status, code in (("ok", 200), ("degraded", 503), ("down", 503)):
                state["status"] = status
                async with http.get(f"http://127.0.0.1:{port}/health") as response:
                    assert response.status == code
                    body = await response.json()
                assert body["status"] == status
                assert set(body) == {"status", "uptime", "lastCycle", "errors"}
    finally:
        await runner.cleanup()
