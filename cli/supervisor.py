"""The services `flowtape up` runs as child processes, kept running.

A service that dies (a non-zero status or a signal) is reported and started again after a
delay that doubles with each quick death, so a service that lost its server for a moment
comes back and the stack keeps its web page. A service that keeps dying right after it
starts cannot be helped by restarts (a bad option, a port it cannot have): after a few such
deaths in a row `up` stops with that service's status rather than run half a stack. A
service that ends with status 0 has finished its work (an ingest source that ran out) and
is not started again.
"""

from __future__ import annotations

import shlex
import signal
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from infra.stack import ServiceRecord, ServiceState
from schemas.errors import FlowtapeError


class ServiceFailed(FlowtapeError):
    """A service kept dying right after it started."""

    code = "service"


@dataclass(frozen=True)
class Backoff:
    """When a dead service starts again, and when restarting it is given up."""

    first_delay_s: float = 1.0
    max_delay_s: float = 30.0
    stable_after_s: float = 60.0  # a run this long forgives the deaths before it
    give_up_after: int = 5  # quick deaths in a row

    def delay_s(self, quick_deaths: int) -> float:
        return float(min(self.max_delay_s, self.first_delay_s * 2 ** (quick_deaths - 1)))


@dataclass
class Service:
    """One supervised child: its `flowtape` arguments and its current process."""

    name: str
    argv: tuple[str, ...]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    restarts: int = 0
    quick_deaths: int = 0
    restart_at: float | None = None
    finished: bool = False

    @property
    def pid(self) -> int:
        return self.process.pid if self.process is not None else 0

    def record(self) -> ServiceRecord:
        state: ServiceState = "finished" if self.finished else "running"
        if self.restart_at is not None:
            state = "restarting"
        return ServiceRecord(self.name, shlex.join(self.argv), self.pid, state, self.restarts)


def describe_exit(returncode: int) -> str:
    if returncode < 0:
        return f"killed by {signal.Signals(-returncode).name}"
    return f"exited with status {returncode}"


@dataclass
class Supervisor:
    """Starts services, restarts the ones that die (call `check` often) and stops them all."""

    command: Sequence[str]  # the program each service's arguments are given to
    env: Mapping[str, str]
    report: Callable[[str], None]
    on_change: Callable[[], None] = lambda: None  # a service started, died or finished
    backoff: Backoff = field(default_factory=Backoff)
    clock: Callable[[], float] = time.monotonic
    services: list[Service] = field(default_factory=list)

    def start(self, argv: Sequence[str]) -> Service:
        service = Service(argv[0], tuple(argv))
        self.services.append(service)
        self._spawn(service)
        return service

    def records(self) -> list[ServiceRecord]:
        return [service.record() for service in self.services]

    def check(self) -> None:
        """Notice deaths, restart what is due; ServiceFailed when one keeps dying."""
        now = self.clock()
        for service in self.services:
            if service.restart_at is not None:
                if now >= service.restart_at:
                    service.restart_at = None
                    service.restarts += 1
                    self._spawn(service)
                    self.report(f"service {service.name} restarted (pid {service.pid})")
                continue
            if service.finished or service.process is None:
                continue
            returncode = service.process.poll()
            if returncode is not None:
                self._died(service, returncode, now)

    def stop(self, timeout_s: float = 20.0) -> None:
        """SIGTERM every service, then SIGKILL the ones still running after `timeout_s`."""
        running = [s.process for s in self.services if s.process and s.process.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        deadline = self.clock() + timeout_s
        for process in running:
            try:
                process.wait(max(0.0, deadline - self.clock()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def _spawn(self, service: Service) -> None:
        service.process = subprocess.Popen([*self.command, *service.argv], env=dict(self.env))  # noqa: S603  (our own command)
        service.started_at = self.clock()
        self.on_change()

    def _died(self, service: Service, returncode: int, now: float) -> None:
        how = f"service {service.name} (pid {service.pid}) {describe_exit(returncode)}"
        if returncode == 0:
            service.finished = True
            self.report(f"{how}: finished")
            self.on_change()
            return
        quick = now - service.started_at < self.backoff.stable_after_s
        service.quick_deaths = service.quick_deaths + 1 if quick else 1
        if service.quick_deaths >= self.backoff.give_up_after:
            raise ServiceFailed(
                f"{how}, its {service.quick_deaths}th death in a row within "
                f"{self.backoff.stable_after_s:g} s of starting; stopping flowtape up"
            )
        delay = self.backoff.delay_s(service.quick_deaths)
        service.restart_at = now + delay
        self.report(f"{how}; restarting in {delay:g} s")
        self.on_change()
