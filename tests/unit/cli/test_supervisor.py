"""`flowtape up`'s services: a dead one is reported and restarted with backoff, one that keeps
dying right after it starts stops `up`, one that finishes is left finished."""

from __future__ import annotations

import signal
import sys
from collections.abc import Iterator

import pytest

from cli.supervisor import Backoff, ServiceFailed, Supervisor

SLEEPS = "import time; time.sleep(60)"
EXITS_3 = "import sys; sys.exit(3)"
EXITS_0 = "pass"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def reports() -> list[str]:
    return []


def supervisor(script: str, clock: Clock, reports: list[str]) -> Iterator[Supervisor]:
    running = Supervisor(
        command=(sys.executable, "-c", script), env={}, report=reports.append,
        backoff=Backoff(first_delay_s=1, max_delay_s=30, stable_after_s=60, give_up_after=4),
        clock=clock,
    )  # fmt: skip
    try:
        yield running
    finally:
        running.stop(timeout_s=5)


@pytest.fixture
def sleeping(clock: Clock, reports: list[str]) -> Iterator[Supervisor]:
    yield from supervisor(SLEEPS, clock, reports)


@pytest.fixture
def failing(clock: Clock, reports: list[str]) -> Iterator[Supervisor]:
    yield from supervisor(EXITS_3, clock, reports)


def wait_for_death(running: Supervisor) -> None:
    for service in running.services:
        assert service.process is not None
        service.process.wait(10)


def test_a_killed_service_is_reported_and_restarted_after_the_first_delay(
    sleeping: Supervisor, clock: Clock, reports: list[str]
) -> None:
    service = sleeping.start(["sink"])
    first_pid = service.pid
    assert service.process is not None
    service.process.send_signal(signal.SIGKILL)
    service.process.wait(10)

    clock.now = 100.0
    sleeping.check()
    assert reports == [f"service sink (pid {first_pid}) killed by SIGKILL; restarting in 1 s"]
    assert sleeping.records()[0].state == "restarting"

    clock.now = 100.5
    sleeping.check()
    assert service.pid == first_pid  # not before its delay

    clock.now = 101.0
    sleeping.check()
    assert service.pid != first_pid and service.process.poll() is None
    assert reports[-1] == f"service sink restarted (pid {service.pid})"
    record = sleeping.records()[0]
    assert (record.state, record.restarts, record.pid) == ("running", 1, service.pid)


def test_quick_deaths_double_the_delay_and_the_last_one_stops_up_with_its_status(
    failing: Supervisor, clock: Clock, reports: list[str]
) -> None:
    failing.start(["compute"])
    delays = []
    with pytest.raises(ServiceFailed) as failed:
        for _ in range(10):
            wait_for_death(failing)
            failing.check()
            delays.append(reports[-1].rsplit("in ", 1)[-1])
            clock.now += 30.0
            failing.check()
    assert delays == ["1 s", "2 s", "4 s"]
    assert failed.value.code == "service"
    assert "service compute" in str(failed.value) and "exited with status 3" in str(failed.value)


def test_a_long_run_forgives_the_deaths_before_it(
    failing: Supervisor, clock: Clock, reports: list[str]
) -> None:
    failing.start(["compute"])
    for _ in range(3):
        wait_for_death(failing)
        failing.check()
        clock.now += 30.0
        failing.check()
    clock.now += 61.0  # the last start ran longer than stable_after_s
    wait_for_death(failing)
    failing.check()
    assert reports[-1].endswith("exited with status 3; restarting in 1 s")


def test_a_service_that_finishes_with_status_0_is_not_restarted(
    clock: Clock, reports: list[str]
) -> None:
    for running in supervisor(EXITS_0, clock, reports):
        service = running.start(["ingest"])
        wait_for_death(running)
        running.check()
        clock.now += 100.0
        running.check()
        assert reports == [f"service ingest (pid {service.pid}) exited with status 0: finished"]
        assert running.records()[0].state == "finished"


def test_stop_ends_every_service(sleeping: Supervisor) -> None:
    services = [sleeping.start([name]) for name in ("sink", "compute")]
    sleeping.stop(timeout_s=5)
    assert all(s.process is not None and s.process.poll() is not None for s in services)
