"""Which servers a command talks to: external, the ones `flowtape up` runs here, or its own.

For each of NATS, Redis and ClickHouse, in this order:
1. the URL the environment names (`NATS_URL`, `REDIS_URL`, `CLICKHOUSE_URL`);
2. the server a running `flowtape up` started from this data folder (it records them in
   `<data dir>/stack.json`);
3. an embedded server this command starts itself and stops when it is done.
"""

from __future__ import annotations

import json
import os
import socket
import urllib.parse
import urllib.request
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal

from infra.embedded import SERVER_FACTORIES, EmbeddedServer
from infra.settings import Settings

Component = Literal["nats", "redis", "clickhouse"]
COMPONENTS: tuple[Component, ...] = ("nats", "redis", "clickhouse")
STATE_FILE = "stack.json"


def _host_port(url: str, default_port: int) -> tuple[str, int]:
    parts = urllib.parse.urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or default_port


def is_healthy(component: Component, url: str) -> bool:
    """A quick liveness probe of one server."""
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


@dataclass
class Stack:
    """The servers one command uses; a context manager that stops what it started."""

    settings: Settings
    needs: Iterable[Component] = COMPONENTS
    record: bool = False  # `flowtape up` records its servers for other commands
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

    def running_up(self) -> dict[str, str]:
        """Servers recorded by a live `flowtape up` in this data folder."""
        try:
            recorded = json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return {}
        if not _pid_alive(int(recorded.get("owner_pid", 0))):
            return {}
        return {str(k): str(v) for k, v in recorded.get("urls", {}).items()}

    def external_url(self, component: Component) -> str:
        return {
            "nats": self.settings.nats_url,
            "redis": self.settings.redis_url,
            "clickhouse": self.settings.clickhouse_url,
        }[component]

    def start(self) -> Stack:
        recorded = {} if self.record else self.running_up()
        for component in self.needs:
            if url := self.external_url(component):
                self.endpoints[component] = Endpoint(component, url, "external")
            elif (url := recorded.get(component)) and is_healthy(component, url):
                self.endpoints[component] = Endpoint(component, url, "up")
            else:
                server = SERVER_FACTORIES[component](self.data_dir / component)
                try:
                    server.start()
                except BaseException:
                    self.stop()
                    raise
                self.owned.append(server)
                self.endpoints[component] = Endpoint(component, server.url, "embedded")
        if self.record:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            urls = {c: e.url for c, e in self.endpoints.items()}
            pids = {server.name: server.pid for server in self.owned}
            self.state_path.write_text(
                json.dumps({"owner_pid": os.getpid(), "urls": urls, "pids": pids})
            )
        return self

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
        return {names[c]: e.url for c, e in self.endpoints.items()}
