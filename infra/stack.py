"""Which servers a command talks to: external, the ones `flowtape up` runs here, or its own.

For each of NATS, Redis and ClickHouse, in this order:
1. the URL the environment names (`NATS_URL`, `REDIS_URL`, `CLICKHOUSE_URL`);
2. the server a running `flowtape up` started from this data folder (it records them in
   `<data dir>/stack.json`, with its API URL and its services);
3. an embedded server this command starts itself and stops when it is done.

`up` hands its children its servers' URLs through the environment; a URL there that `up`
recorded as a server it started itself is reported with origin `up`, not `external`.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from infra.chcluster import clickhouse_cluster
from infra.embedded import SERVER_FACTORIES, EmbeddedServer, nats_cluster
from infra.files import write_json_atomically
from infra.settings import Settings

Component = Literal["nats", "redis", "clickhouse"]
COMPONENTS: tuple[Component, ...] = ("nats", "redis", "clickhouse")
ServiceState = Literal["running", "restarting", "finished"]
STATE_FILE = "stack.json"


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def is_healthy(component: Component, url: str) -> bool:
    """A quick liveness probe of one server (of any seed, for a cluster's seeds or a
    sharded ClickHouse's servers)."""
    if "," in url or "|" in url:  # a cluster's seeds, or shards and their replicas
        return any(is_healthy(component, seed.strip()) for seed in url.replace("|", ",").split(","))
    try:
        if component == "clickhouse":
            parts = urllib.parse.urlsplit(url)
            ping = f"{parts.scheme}://{parts.hostname}:{parts.port or 8123}/ping"
            with urllib.request.urlopen(ping, timeout=2) as response:  # noqa: S310  (configured URL)
                return bool(response.status == 200)
        host, port = _host_port(url, 4222 if component == "nats" else 6379)
        with socket.create_connection((host, port), timeout=2) as sock:
            if component == "redis":
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")
            return sock.recv(4).startswith(b"INFO")
    except OSError:
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@dataclass
class Endpoint:
    component: Component
    url: str
    origin: Literal["external", "up", "embedded"]


@dataclass(frozen=True)
class ServiceRecord:
    """One service `flowtape up` supervises, as it last recorded it."""

    name: str
    command: str
    pid: int
    state: ServiceState
    restarts: int


@dataclass(frozen=True)
class UpRecord:
    """What a live `flowtape up` in this data folder recorded in stack.json."""

    urls: dict[str, str]
    owned: frozenset[str]  # the components `up` started itself
    api_url: str
    services: tuple[ServiceRecord, ...]


@dataclass
class Stack:
    """The servers one command uses; a context manager that stops what it started."""

    settings: Settings
    needs: Iterable[Component] = COMPONENTS
    record: bool = False  # `flowtape up` records its servers for other commands
    nats_nodes: int = 1  # more: an embedded NATS is a cluster of this many nodes
    clickhouse_shards: int = 1  # more: an embedded ClickHouse is this many shards
    endpoints: dict[Component, Endpoint] = field(default_factory=dict)
    owned: list[EmbeddedServer] = field(default_factory=list)

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir.resolve()

    @property
    def state_path(self) -> Path:
        return self.data_dir / STATE_FILE

    def url(self, component: Component) -> str:
        return self.endpoints[component].url

    def recorded_up(self) -> UpRecord | None:
        """What a live `flowtape up` in this data folder recorded, or None when none runs."""
        try:
            recorded = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None
        if not _pid_alive(int(recorded.get("owner_pid", 0))):
            return None
        return UpRecord(
            urls={str(k): str(v) for k, v in recorded.get("urls", {}).items()},
            owned=frozenset(recorded.get("owned", ())),
            api_url=str(recorded.get("api_url", "")),
            services=tuple(ServiceRecord(**row) for row in recorded.get("services", ())),
        )

    def external_url(self, component: Component) -> str:
        return {
            "nats": self.settings.nats_url,
            "redis": self.settings.redis_url,
            "clickhouse": self.settings.clickhouse_url,
        }[component]

    def locate(self, component: Component, up: UpRecord | None) -> Endpoint | None:
        """The server the environment names, else the one `up` recorded (not probed)."""
        recorded = up.urls.get(component, "") if up else ""
        if configured := self.external_url(component):
            # `up` hands its own servers to its children through the environment
            own = up is not None and component in up.owned and configured == recorded
            return Endpoint(component, configured, "up" if own else "external")
        if recorded:
            return Endpoint(component, recorded, "up")
        return None

    def start(self) -> Stack:
        up = None if self.record else self.recorded_up()
        for component in self.needs:
            found = self.locate(component, up)
            # a URL the environment names is used as it is; a recorded one only if it answers
            if found and (self.external_url(component) or is_healthy(component, found.url)):
                self.endpoints[component] = found
                continue
            if component == "nats" and self.nats_nodes > 1:
                self._start_nats_cluster()
                continue
            if component == "clickhouse" and self.clickhouse_shards > 1:
                self._start_clickhouse_cluster()
                continue
            server = SERVER_FACTORIES[component](self.data_dir / component)
            try:
                server.start()
            except BaseException:
                self.stop()
                raise
            self.owned.append(server)
            self.endpoints[component] = Endpoint(component, server.url, "embedded")
        if self.record:
            self.record_services("", ())
        return self

    def _start_nats_cluster(self) -> None:
        cluster = nats_cluster(self.data_dir / "nats-cluster", self.nats_nodes)
        self._start_group("nats", cluster.start, cluster.nodes, cluster.url)

    def _start_clickhouse_cluster(self) -> None:
        cluster = clickhouse_cluster(self.data_dir / "clickhouse-shards", self.clickhouse_shards)
        self._start_group("clickhouse", cluster.start, cluster.shards, cluster.url)

    def _start_group(
        self,
        component: Component,
        start: Callable[[], None],
        servers: list[EmbeddedServer],
        url: str,
    ) -> None:
        """Start a cluster's servers, owned by this stack and reached at `url`."""
        try:
            start()
        except BaseException:
            self.stop()
            raise
        self.owned.extend(servers)
        self.endpoints[component] = Endpoint(component, url, "embedded")

    def record_services(self, api_url: str, services: Iterable[ServiceRecord]) -> None:
        """Write stack.json: the servers, the API's URL and the services, for other commands
        in this folder (`flowtape up` calls it whenever a service starts or stops)."""
        state = {
            "owner_pid": os.getpid(),
            "urls": {c: e.url for c, e in self.endpoints.items()},
            "owned": [c for c, e in self.endpoints.items() if e.origin == "embedded"],
            "pids": {server.name: server.pid for server in self.owned},
            "api_url": api_url,
            "services": [asdict(service) for service in services],
        }
        write_json_atomically(self.state_path, state)

    def stop(self) -> None:
        for server in reversed(self.owned):
            server.stop()
        self.owned.clear()
        if self.record:
            self.state_path.unlink(missing_ok=True)

    def __enter__(self) -> Stack:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def environment(self) -> dict[str, str]:
        """Environment variables that point child processes at these servers."""
        names = {"nats": "NATS_URL", "redis": "REDIS_URL", "clickhouse": "CLICKHOUSE_URL"}
        found = {names[c]: e.url for c, e in self.endpoints.items()}
        nats = self.endpoints.get("nats")
        if nats is not None and nats.origin == "embedded" and self.nats_nodes >= 3:
            found["FLOWTAPE_STREAM_REPLICAS"] = "3"  # each stream on three nodes
        return found
