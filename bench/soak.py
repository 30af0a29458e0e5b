"""Soak: the synthetic options market at a set rate of option prints through `flowtape up` for
an hour (or `--seconds`), sampling every process's memory and CPU, the log's lag and
ClickHouse's parts.

`flowtape up` runs in a temporary folder, its ingest playing synthetic sessions at
`--rate` / 40 times real time (the synthetic market prints 40 option prints per second of
session time, its quotes and equities scaled alike). A session is `--session-minutes` of
market; when one has played, the next day's session starts as `flowtape ingest` in the same
folder (it resumes after the log), so the market prints for the whole soak; while the next
session is generated (seconds) nothing prints.

Every `--interval` seconds it samples: the RSS and CPU (% of a core over the interval) of
every process of the stack, named by command (up, nats-server, valkey-server, clickhouse,
sink, compute, daemon, alpha, api, ingest synthetic, ingest synthetic-cme); the lag in
messages (compute: RAW's last sequence minus the position checkpointed in Redis; sink: each
stream's last sequence minus the position stored in ClickHouse; pending: the largest
`num_pending` among each stream's JetStream consumers being read, the API's tape among
them: a pull waiting or deliveries since the last sample); how many consumers each stream
has (a reader that opens a new consumer leaves its old one to the server's idle limit);
ClickHouse's active parts per table and the most in one partition (each session day is a
new partition of every table); the option prints stored and their rate. The samples go to
DIR/soak.csv (rewritten after every sample), the curves to DIR/soak.png, the stack's output
to DIR/stack.log. Printed at the end (and kept in DIR/summary.txt): the achieved prints/s,
each process's RSS after the warm-up (min, max, spread = (max - min) / min) and mean CPU,
the largest lags, consumers and parts, and two verdicts:

- RSS flat: every process that ran under one pid from the end of the warm-up on keeps its
  level within 10 %: its level is the median of its samples in each `--level-window` after
  the warm-up (a collected heap, Go's or Python's, saws up and down between collections:
  the median follows what is held, a leak or growing data moves it), and its drift, judged,
  is (highest level - lowest) / lowest. The raw min, max and spread are printed beside it.
  A process started again (the ingest of each new session, a service `up` restarted) is
  shown, not judged.
- lag bounded: each lag series after the warm-up has its max over the second half within
  1.5 x its max over the first half, and does not rise through the whole second half
  (non-decreasing from its first to its last sample there, ending higher); a series that
  stays under 100 messages (under a second of RAW messages at 5 k prints/s) counts as bounded.

What the servers hold is sampled too, to tell data kept from memory leaked: each stream's
bytes (RAW, DERIVED) and Valkey's `used_memory`. The streams are capped at
`--stream-max-bytes` (STREAM_MAX_BYTES for the stack; JetStream then drops the oldest
messages), so that an hour reaches the steady state a deployment with retention runs in.
Likewise each session is a day compressed into minutes, and the compute service keeps the
engine's state at the start of each day in Valkey (DAY_SNAPSHOTS_KEPT, 30 days in a
deployment): the soak keeps `--day-snapshots-kept` of them (1), so that Valkey reaches the
level it holds from then on once the second session starts, as a deployment does after its
first month (each day kept adds a constant: a leak still shows).

    .venv/bin/python bench/soak.py [--seconds 3600] [--interval 10] [--rate 5000] [--out build/soak]
        [--level-window 300] [--stream-max-bytes 1073741824] [--day-snapshots-kept 1]
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import os
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import matplotlib
import psutil
from nats.js.api import ConsumerInfo

from infra.bus import Bus
from infra.settings import get_settings
from infra.state import StateStore
from infra.warehouse import Warehouse
from live.sink.positions import stored_lag
from schemas.subjects import DERIVED_STREAM, RAW_STREAM
from synth.config import SynthConfig

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt  # noqa: E402  (after the backend is chosen)

SESSION_PRINTS_PER_S = SynthConfig().option_prints_per_second  # per second of session time
PRINTS_TABLE = "option_prints"
RSS_DRIFT_LIMIT = 0.10
LAG_GROWTH_LIMIT = 1.5
LAG_FLOOR = 100  # messages
MB = 1024 * 1024
STARTUP_S = 300
MAX_FAILED_SESSIONS = 5
SERVER_ENV = ("NATS_URL", "REDIS_URL", "CLICKHOUSE_URL")  # the soak's stack is its own
HELD = ("held_mb:raw", "held_mb:derived", "held_mb:valkey")
LAGS = ("lag_compute", "lag_sink_raw", "lag_sink_derived", "pending_raw", "pending_derived")
CONSUMERS = ("consumers_raw", "consumers_derived")
CONSUMER_PAGE = 256  # consumers per answer of the JetStream API


def free_port() -> int:
    with socket.create_server(("127.0.0.1", 0)) as sock:
        port: int = sock.getsockname()[1]
        return port


def flowtape(
    folder: Path, env: dict[str, str], argv: list[str], log: Path
) -> subprocess.Popen[bytes]:
    """`flowtape ARGV` in `folder`, its output appended to `log`."""
    with log.open("ab") as output:
        return subprocess.Popen(  # noqa: S603  (our own CLI)
            [sys.executable, "-m", "cli.main", *argv], cwd=folder, env=env,
            stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip


def stack_record(folder: Path) -> dict[str, Any]:
    """What `flowtape up` in `folder` recorded: servers, API URL, services."""
    found: dict[str, Any] = json.loads((folder / ".flowtape" / "stack.json").read_text())
    return found


def start_up(
    folder: Path, env: dict[str, str], source_args: str, log: Path
) -> subprocess.Popen[bytes]:
    """`flowtape up` on the synthetic market, once its /health answers 200."""
    process = flowtape(folder, env, ["up", "--source-args", source_args], log)
    deadline = time.monotonic() + STARTUP_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"flowtape up exited with status {process.returncode}; see {log}")
        try:
            if httpx.get(f"{stack_record(folder)['api_url']}/health", timeout=5).status_code == 200:
                return process
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(0.5)
    process.send_signal(signal.SIGTERM)
    raise SystemExit(f"flowtape up was not healthy within {STARTUP_S} s; see {log}")


class SessionChain:
    """Keeps the synthetic options market printing: once a session has played (`up`'s own
    ingest, then each one started here), the next starts as `flowtape ingest`."""

    def __init__(self, folder: Path, env: dict[str, str], ingest_argv: list[str], log: Path):
        self.folder, self.env, self.ingest_argv, self.log = folder, env, ingest_argv, log
        self.process: subprocess.Popen[bytes] | None = None
        self.sessions = 1  # `up`'s ingest plays the first
        self.failed = 0

    def keep_printing(self) -> None:
        if self.process is None:
            if not self._first_session_played():
                return
        else:
            status = self.process.poll()
            if status is None:
                return
            if status != 0:
                self.failed += 1
                print(f"a session's ingest exited with status {status}; see {self.log}")
                if self.failed >= MAX_FAILED_SESSIONS:
                    raise SystemExit(f"{self.failed} sessions failed; see {self.log}")
        self.process = flowtape(self.folder, self.env, self.ingest_argv, self.log)
        self.sessions += 1

    def _first_session_played(self) -> bool:
        for service in stack_record(self.folder)["services"]:
            if shlex.split(service["command"]) == self.ingest_argv:
                return bool(service["state"] == "finished")
        return False

    @property
    def pids(self) -> list[int]:
        return [self.process.pid] if self.process and self.process.poll() is None else []

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            self.process.wait(60)


def process_name(cmdline: list[str]) -> str:
    """A stack process named by its command: the `flowtape` subcommand (an ingest with its
    source), `clickhouse` for the embedded server, else the program's file name."""
    if "cli.main" in cmdline:
        argv = cmdline[cmdline.index("cli.main") + 1 :]
        if argv[:2] == ["ingest", "--source"] and len(argv) > 2:
            return f"ingest {argv[2]}"
        return argv[0] if argv else "flowtape"
    if "infra.chserver" in cmdline:
        return "clickhouse"
    # valkey-server rewrites its title to "valkey-server 127.0.0.1:PORT"
    return Path(cmdline[0].split()[0]).name if cmdline and cmdline[0] else "unnamed"


@dataclass
class ProcessLook:
    """The stack's processes at one moment."""

    rss_mb: dict[str, float]  # summed by name
    pids: dict[str, set[int]]
    cpu_s: dict[int, float]  # user + system seconds each pid has spent so far


def look_at_processes(roots: Iterable[int]) -> ProcessLook:
    """The processes under `roots`, themselves included."""
    look = ProcessLook(defaultdict(float), defaultdict(set), {})
    for root in roots:
        try:
            top = psutil.Process(root)
            tree = [top, *top.children(recursive=True)]
        except psutil.NoSuchProcess:
            continue
        for process in tree:
            try:
                name = process_name(process.cmdline())
                rss = process.memory_info().rss / MB
                cpu = process.cpu_times()
            except (psutil.NoSuchProcess, psutil.ZombieProcess, psutil.AccessDenied):
                continue  # ended between the listing and the look
            if rss == 0:
                continue  # a process ending (its memory gone, its name often too)
            look.rss_mb[name] += rss
            look.pids[name].add(process.pid)
            look.cpu_s[process.pid] = cpu.user + cpu.system
    return look


def cpu_percent(before: ProcessLook, after: ProcessLook, seconds: float) -> dict[str, float]:
    """Each name's CPU over the interval, in % of one core (a pid new in `after` counts all
    its time: it started within the interval)."""
    return {
        name: 100 * sum(after.cpu_s[p] - before.cpu_s.get(p, 0.0) for p in pids) / seconds
        for name, pids in after.pids.items()
    }


@dataclass
class Sample:
    t_s: float
    processes: ProcessLook
    cpu_pct: dict[str, float]
    lags: dict[str, int]
    held: dict[str, float]  # what the servers hold (HELD), MB
    consumers: dict[str, int]
    parts: dict[str, int]
    partition_parts: int  # the most active parts in one partition of one table
    prints: int  # option prints stored
    prints_per_s: float


@dataclass
class Probes:
    """The connections the samples are read through."""

    bus: Bus
    store: StateStore
    warehouse: Warehouse
    # Each consumer's last delivered stream sequence at the previous sample: one that has
    # moved (or is new, or has a pull waiting) is being read; one that has not was left
    # behind by a reader that opened another (its reader stalled shows in the stored lags).
    delivered: dict[tuple[str, str], int] = field(default_factory=dict)

    async def lags(self) -> tuple[dict[str, int], dict[str, int]]:
        """The lags in messages, and how many JetStream consumers each stream has."""
        raw_last = await self.bus.last_sequence(RAW_STREAM)
        position = await self.store.client.hget(self.store.key, "position")
        stored = await stored_lag(self.bus, self.warehouse)
        lags = {
            "lag_compute": max(0, raw_last - int(position or 0)),
            "lag_sink_raw": stored[RAW_STREAM]["lag"],
            "lag_sink_derived": stored[DERIVED_STREAM]["lag"],
        }
        counts = {}
        for stream in (RAW_STREAM, DERIVED_STREAM):
            consumers = await self.consumers(stream)
            read = []
            for consumer in consumers:
                key = (stream, consumer.name)
                delivered = consumer.delivered.stream_seq if consumer.delivered else 0
                if consumer.num_waiting or self.delivered.get(key) != delivered:
                    read.append(consumer)
                self.delivered[key] = delivered
            lags[f"pending_{stream.lower()}"] = max((c.num_pending or 0 for c in read), default=0)
            counts[f"consumers_{stream.lower()}"] = len(consumers)
        return lags, counts

    async def consumers(self, stream: str) -> list[ConsumerInfo]:
        """Every consumer of `stream`: those being read, and those a reader left behind when
        it opened a new one (the server drops them once idle for the reader's idle limit)."""
        found: list[ConsumerInfo] = []
        while True:
            page = await self.bus.js.consumers_info(stream, offset=len(found))
            found.extend(page)
            if len(page) < CONSUMER_PAGE:
                return found

    async def held(self) -> dict[str, float]:
        """The bytes each stream stores and Valkey's `used_memory`, in MB."""
        raw = (await self.bus.js.stream_info(RAW_STREAM)).state.bytes
        derived = (await self.bus.js.stream_info(DERIVED_STREAM)).state.bytes
        memory = await self.store.client.info("memory")
        return {
            "held_mb:raw": raw / MB,
            "held_mb:derived": derived / MB,
            "held_mb:valkey": int(memory["used_memory"]) / MB,
        }

    def parts_and_prints(self) -> tuple[dict[str, int], int, int]:
        """Active parts per table, the most in any one partition (merges work within a
        partition, and each session day is a partition of every table), and the option
        prints stored (the folder holds only the live run)."""
        rows = self.warehouse.rows(
            "SELECT table, partition, count(), sum(rows) FROM system.parts"
            " WHERE active AND database = currentDatabase() GROUP BY table, partition"
        )
        parts: dict[str, int] = defaultdict(int)
        for table, _, count, _ in rows:
            parts[str(table)] += int(count)
        largest = max((int(count) for _, _, count, _ in rows), default=0)
        prints = sum(int(total) for table, _, _, total in rows if table == PRINTS_TABLE)
        return dict(sorted(parts.items())), largest, prints

    def prints_per_day(self) -> list[tuple[str, int]]:
        rows = self.warehouse.rows(
            f"SELECT toString(toDate(ts_recv)) AS day, count() FROM {PRINTS_TABLE}"  # noqa: S608  (our table)
            " GROUP BY day ORDER BY day"
        )
        return [(str(day), int(count)) for day, count in rows]


async def take_samples(
    probes: Probes, roots: list[int], chain: SessionChain, seconds: float, interval: float,
    csv_path: Path,
) -> list[Sample]:  # fmt: skip
    samples: list[Sample] = []
    started = time.monotonic()
    while True:
        t_s = time.monotonic() - started
        processes = look_at_processes([*roots, *chain.pids])
        parts, partition_parts, prints = await asyncio.to_thread(probes.parts_and_prints)
        lags, consumers = await probes.lags()
        held = await probes.held()
        rate, cpu = 0.0, {}
        if samples:
            elapsed = t_s - samples[-1].t_s
            rate = (prints - samples[-1].prints) / elapsed
            cpu = cpu_percent(samples[-1].processes, processes, elapsed)
        samples.append(
            Sample(t_s, processes, cpu, lags, held, consumers, parts, partition_parts, prints, rate)
        )
        write_csv(samples, csv_path)
        if t_s >= seconds:
            return samples
        due = started + min(seconds, len(samples) * interval)
        while (now := time.monotonic()) < due:
            chain.keep_printing()
            await asyncio.sleep(min(0.5, due - now))


def write_csv(samples: list[Sample], path: Path) -> None:
    names = sorted({name for s in samples for name in s.processes.rss_mb})
    tables = sorted({table for s in samples for table in s.parts})
    header = ["t_s", "prints", "prints_per_s", *(f"rss_mb:{n}" for n in names),
              *(f"cpu_pct:{n}" for n in names), *LAGS, *HELD, *CONSUMERS, "parts_total",
              "parts_max_partition",
              *(f"parts:{t}" for t in tables)]  # fmt: skip
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        for s in samples:
            rss, cpu = s.processes.rss_mb, s.cpu_pct
            writer.writerow([
                f"{s.t_s:.3f}", s.prints, f"{s.prints_per_s:.1f}",
                *(f"{rss[n]:.3f}" if n in rss else "" for n in names),
                *(f"{cpu[n]:.1f}" if n in cpu else "" for n in names),
                *(s.lags[lag] for lag in LAGS), *(f"{s.held[h]:.3f}" for h in HELD),
                *(s.consumers[c] for c in CONSUMERS),
                sum(s.parts.values()), s.partition_parts,
                *(s.parts.get(t, 0) for t in tables),
            ])  # fmt: skip


def lag_is_bounded(values: list[int]) -> bool:
    """The rule in the module docstring."""
    if max(values, default=0) < LAG_FLOOR:
        return True
    half = len(values) // 2
    first, second = values[:half], values[half:]
    if not first:
        return False  # one sample over the floor says nothing about a bound
    rises_throughout = (
        len(second) > 1
        and second[-1] > second[0]
        and all(b >= a for a, b in zip(second, second[1:], strict=False))
    )
    return max(second) <= LAG_GROWTH_LIMIT * max(first) and not rises_throughout


def levels(times: list[float], values: list[float], window_s: float) -> list[float]:
    """The median of `values` in each `window_s` from the first time on (a last window
    shorter than half a window joins the one before it)."""
    windows: list[list[float]] = []
    start = times[0]
    for t, value in zip(times, values, strict=True):
        if not windows or t - start >= window_s * len(windows):
            windows.append([])
        windows[-1].append(value)
    if len(windows) > 1 and (times[-1] - start) - window_s * (len(windows) - 1) < window_s / 2:
        windows[-2].extend(windows.pop())
    return [statistics.median(window) for window in windows]


def drift(times: list[float], values: list[float], window_s: float) -> float:
    """(highest level - lowest) / lowest: the rule in the module docstring."""
    found = levels(times, values, window_s)
    return (max(found) - min(found)) / min(found)


def summary(
    samples: list[Sample], warmup_s: float, level_window_s: float, asked_rate: float,
    sessions: int, failed: int,
) -> list[str]:  # fmt: skip
    """The figures and the two verdicts, as printed lines."""
    settled = [s for s in samples if s.t_s >= warmup_s]
    first, last = samples[0], samples[-1]
    achieved = (last.prints - first.prints) / (last.t_s - first.t_s)
    lines = [
        f"achieved: {last.prints:,} option prints stored, {achieved:,.0f} prints/s over the run "
        f"({100 * achieved / asked_rate:.0f} % of {asked_rate:,.0f} asked), median "
        f"{statistics.median(s.prints_per_s for s in settled):,.0f} prints/s per interval "
        f"after the warm-up; {sessions} sessions started, {failed} failed",
        f"processes after the warm-up: RSS (MB) min, max, spread; drift of the "
        f"{level_window_s:g} s medians; mean CPU (% of a core)",
    ]
    worst: tuple[float, str] = (0.0, "")
    restarted = []
    for name in sorted({n for s in settled for n in s.processes.rss_mb}):
        present = [s for s in settled if name in s.processes.rss_mb]
        values = [s.processes.rss_mb[name] for s in present]
        pids = set().union(*(s.processes.pids[name] for s in present))
        cpu = statistics.mean(s.cpu_pct.get(name, 0.0) for s in present)
        low, high = min(values), max(values)
        spread = (high - low) / low
        moved = drift([s.t_s for s in present], values, level_window_s)
        note = ""
        if len(pids) > 1:
            note = f"  ({len(pids)} processes one after another: not judged)"
            restarted.append(name)
        else:
            worst = max(worst, (moved, name))
            if len(present) < len(settled):
                note = f"  (in {len(present)} of {len(settled)} samples)"
        lines.append(
            f"  {name:<22} {low:8.1f} {high:8.1f} {100 * spread:6.1f} %  drift "
            f"{100 * moved:5.1f} %  cpu {cpu:5.1f} %{note}"
        )
    lines.append(
        "held after the warm-up (MB) min, max, at the end: "
        + ", ".join(
            f"{name.split(':')[1]} {min(s.held[name] for s in settled):,.1f} "
            f"{max(s.held[name] for s in settled):,.1f} {samples[-1].held[name]:,.1f}"
            for name in HELD
        )
    )
    lags = {lag: [s.lags[lag] for s in settled] for lag in LAGS}
    lines.append(
        "max lag after the warm-up (messages): "
        + ", ".join(f"{lag} {max(values)}" for lag, values in lags.items())
    )
    lines.append(
        "JetStream consumers (read and left behind): "
        + ", ".join(
            f"{name} max {max(s.consumers[name] for s in samples)}, "
            f"at the end {samples[-1].consumers[name]}"
            for name in CONSUMERS
        )
    )
    parts_total = [sum(s.parts.values()) for s in samples]
    busiest = max(samples[-1].parts, key=lambda t: samples[-1].parts[t], default="none")
    lines.append(
        f"active parts: max total {max(parts_total)}, at the end {parts_total[-1]} "
        f"(most in {busiest}: {samples[-1].parts.get(busiest, 0)}); in one partition: max "
        f"{max(s.partition_parts for s in samples)}, at the end {samples[-1].partition_parts}"
    )
    flat = worst[0] <= RSS_DRIFT_LIMIT
    lines.append(
        f"verdict: RSS flat within 10 % after warm-up: {'yes' if flat else 'no'} "
        f"(largest drift {100 * worst[0]:.1f} % in {worst[1] or 'none'}; "
        f"not judged: {', '.join(restarted) or 'none'})"
    )
    unbounded = [lag for lag, values in lags.items() if not lag_is_bounded(values)]
    lines.append(
        f"verdict: lag bounded: {'no' if unbounded else 'yes'} "
        f"(unbounded: {', '.join(unbounded) or 'none'})"
    )
    return lines


def plot(samples: list[Sample], warmup_s: float, path: Path) -> None:
    minutes = [s.t_s / 60 for s in samples]
    figure, (rss, held, lag, consumers, parts, rate) = plt.subplots(
        6, 1, figsize=(11, 19), sharex=True
    )
    palette = plt.get_cmap("tab20")
    rss.set_prop_cycle(color=[palette(i) for i in range(palette.N)])  # a dozen processes
    for name in sorted({n for s in samples for n in s.processes.rss_mb}):
        rss.plot(minutes, [s.processes.rss_mb.get(name, float("nan")) for s in samples], label=name)
    rss.set_ylabel("RSS (MB)")
    rss.legend(fontsize="small", ncol=3)
    for name in HELD:
        held.plot(minutes, [s.held[name] for s in samples], label=name.split(":")[1])
    held.set_ylabel("held (MB)")
    held.legend(fontsize="small")
    for name in LAGS:
        lag.plot(minutes, [s.lags[name] for s in samples], label=name)
    lag.set_ylabel("lag (messages)")
    lag.legend(fontsize="small", ncol=3)
    for name in CONSUMERS:
        consumers.plot(minutes, [s.consumers[name] for s in samples], label=name)
    consumers.set_ylabel("JetStream consumers")
    consumers.legend(fontsize="small")
    tables = sorted(samples[-1].parts, key=lambda t: -samples[-1].parts[t])[:5]
    parts.plot(minutes, [sum(s.parts.values()) for s in samples], label="total", linewidth=2)
    for table in tables:
        parts.plot(minutes, [s.parts.get(table, 0) for s in samples], label=table)
    largest = [s.partition_parts for s in samples]
    parts.plot(minutes, largest, label="largest partition", color="black", linestyle=":")
    parts.set_ylabel("active parts")
    parts.legend(fontsize="small", ncol=3)
    rate.plot(minutes[1:], [s.prints_per_s for s in samples[1:]])
    rate.set_ylabel("option prints stored / s")
    rate.set_xlabel("minutes")
    for axes in (rss, held, lag, consumers, parts, rate):
        axes.axvline(warmup_s / 60, color="grey", linestyle="--", linewidth=1)
        axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


async def soak(
    folder: Path, up: subprocess.Popen[bytes], chain: SessionChain, args: argparse.Namespace,
) -> list[Sample]:  # fmt: skip
    urls = stack_record(folder)["urls"]
    bus = await Bus.connect(urls["nats"], name="soak")
    store = StateStore.connect(urls["redis"], get_settings().run_id)
    warehouse = Warehouse.connect(urls["clickhouse"], get_settings().clickhouse_database)
    probes = Probes(bus, store, warehouse)
    try:
        samples = await take_samples(
            probes, [up.pid], chain, args.seconds, args.interval, args.out / "soak.csv"
        )
        days = await asyncio.to_thread(probes.prints_per_day)
        counts = [count for _, count in days]
        print(f"session days stored: {len(days)} (option prints per day: min "
              f"{min(counts, default=0):,}, max {max(counts, default=0):,})")  # fmt: skip
        return samples
    finally:
        await bus.close()
        await store.close()
        warehouse.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=3600.0, help="sampling time")
    parser.add_argument("--interval", type=float, default=10.0, help="seconds between samples")
    parser.add_argument("--rate", type=float, default=5000.0, help="option prints/s asked")
    parser.add_argument(
        "--warmup", type=float, help="seconds not judged (default 10 %% of the run)"
    )
    parser.add_argument(
        "--level-window", type=float, default=300.0, help="seconds per median of RSS"
    )
    parser.add_argument(
        "--stream-max-bytes",
        type=int,
        default=1024**3,
        help="the streams' retention (STREAM_MAX_BYTES), bytes",
    )
    parser.add_argument(
        "--day-snapshots-kept",
        type=int,
        default=1,
        help="engine day snapshots Valkey keeps (DAY_SNAPSHOTS_KEPT)",
    )
    parser.add_argument(
        "--session-minutes",
        type=int,
        default=390,
        help="market minutes per session (a trading day)",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path("build/soak"))
    parser.add_argument("--keep", action="store_true", help="keep the stack's folder")
    args = parser.parse_args()
    if not (args.seconds > 0 and args.interval > 0 and args.rate > 0 and args.level_window > 0):
        parser.error("--seconds, --interval, --rate and --level-window must be > 0")
    if args.day_snapshots_kept < 1:
        parser.error(f"--day-snapshots-kept must be at least 1, got {args.day_snapshots_kept}")
    if args.stream_max_bytes < 1024**2:
        parser.error(f"--stream-max-bytes must be at least 1 MiB, got {args.stream_max_bytes}")
    if args.warmup is not None and not 0 <= args.warmup < args.seconds:
        parser.error(
            f"--warmup must be within 0..{args.seconds:g} s (--seconds), got {args.warmup:g}"
        )
    warmup_s = args.seconds / 10 if args.warmup is None else args.warmup
    speed = args.rate / SESSION_PRINTS_PER_S
    ingest = [
        "ingest", "--source", "synthetic", "--minutes", str(args.session_minutes),
        "--speed", f"{speed:g}", "--seed", str(args.seed),
    ]  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    log = args.out / "stack.log"
    log.write_bytes(b"")
    folder = Path(tempfile.mkdtemp(prefix="soak-"))
    env = {k: v for k, v in os.environ.items() if k not in SERVER_ENV}
    env |= {
        "FLOWTAPE_DATA_DIR": str(folder / ".flowtape"), "API_PORT": str(free_port()),
        "STREAM_MAX_BYTES": str(args.stream_max_bytes),
        "DAY_SNAPSHOTS_KEPT": str(args.day_snapshots_kept),
    }  # fmt: skip
    print(f"soak: {args.seconds:g} s at {args.rate:g} option prints/s asked (synthetic market at "
          f"{speed:g}x, sessions of {args.session_minutes} market minutes = "
          f"{args.session_minutes * 60 / speed:.1f} s), a sample every {args.interval:g} s, "
          f"warm-up {warmup_s:g} s; streams capped at {args.stream_max_bytes / MB:,.0f} MB; "
          f"{args.day_snapshots_kept} engine day snapshots kept; stack in {folder}")  # fmt: skip
    up = start_up(folder, env, shlex.join(ingest[3:]), log)
    chain = SessionChain(folder, env, ingest, log)
    try:
        samples = asyncio.run(soak(folder, up, chain, args))
    finally:
        chain.stop()
        up.send_signal(signal.SIGTERM)  # `up` stops its services and servers on SIGTERM
        up.wait(120)
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
    plot(samples, warmup_s, args.out / "soak.png")
    lines = summary(samples, warmup_s, args.level_window, args.rate, chain.sessions, chain.failed)
    (args.out / "summary.txt").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    print(f"samples: {args.out / 'soak.csv'}; curves: {args.out / 'soak.png'}")


if __name__ == "__main__":
    main()
