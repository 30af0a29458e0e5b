# ruff: noqa: T201  (a benchmark prints its figures)
"""Frame times of the web page in headless Chromium, and playback pace at 60x.

Starts `flowtape up` on the synthetic market in a temporary folder, opens the page in
Debian's Chromium (Playwright) with every panel shown and the premium floor at 0 (every
packet is drawn), and reads the page's own frame times (web/frames.js: from the start of a
frame's animation callbacks to the first task after it, so script, style, layout and paint)
while the tape runs. The same measure on an empty page under the same load tells how much of
it is the machine (flowtape up and Chromium share its cores). Then copies the live rows into a
stored run, reads its playback at 60x over HTTP (the stream's pace: event time over wall
time) and plays it in the page (the page's position clock over wall time, up to the end).
Every figure is printed with the 1-minute load average. With --trace N, a Chromium trace of N
seconds of the live tape (after the measured window: tracing slows the page) says where the
time goes: the renderer's main thread split into script, task overhead, style and layout,
paint, garbage collection, the trace events taking the most time of their own, the busiest
script callbacks, and the other threads' busy time.

    .venv/bin/python bench/bench_web_frames.py [--speed 1] [--seconds 30] [--playback-seconds 20]
        [--trace 8]

Run it once with --speed 1 (the synthetic default rate) and once with --speed 10. The stored
run spans the event time the tape ran (up to --seconds x speed plus start-up): at 60x a
minute of it plays in a second.
"""

from __future__ import annotations

import argparse
import collections
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, Page, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeout

from infra.runs import register_run
from infra.warehouse import Warehouse

CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
# What playback of a run reads: packets, alerts, and the prints lone singles are made of.
RUN_TABLES = ("flow_packets", "packet_prints", "alerts", "print_inference", "option_prints")
STORED = "bench-web-60x"
TRACE_CATEGORIES = [
    "devtools.timeline", "disabled-by-default-devtools.timeline", "v8.execute", "toplevel",
    "cc", "viz", "blink", "renderer.scheduler",
]  # fmt: skip
FRAME_BUDGET_US = 16_000
# What a main-thread trace event's own time (its children's taken out) is spent on.
MAIN_THREAD_KINDS = {
    "script": ("FunctionCall", "EventDispatch", "FireAnimationFrame", "TimerFire", "EvaluateScript",
               "RunMicrotasks", "V8.", "v8."),
    "gc": ("V8.GC", "MinorGC", "MajorGC", "BlinkGC", "Major concurrent", "CppGC"),
    "task overhead (IPC, scheduler)": ("RunTask", "ThreadControllerImpl::RunTask",
                                       "Receive mojo", "SimpleWatcher", "BlinkScheduler"),
    "style+layout": ("UpdateLayoutTree", "Layout", "LocalFrameView::performLayout",
                     "LocalFrameView::RunStyleAndLayout", "RecalculateStyles"),
    "paint+commit": ("Paint", "PrePaint", "Layerize", "LocalFrameView::Run", "CullRectUpdate",
                     "Commit", "ProxyMain::", "LayerTreeHost", "UpdateLayer", "RecordingSource",
                     "PaintArtifact", "ScrollTree", "LocalFrameView::"),
}  # fmt: skip


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def start_up(folder: Path, speed: float) -> tuple[subprocess.Popen[bytes], dict[str, Any]]:
    env = {
        k: v for k, v in os.environ.items() if k not in ("NATS_URL", "REDIS_URL", "CLICKHOUSE_URL")
    }
    env |= {"FLOWTAPE_DATA_DIR": str(folder / ".flowtape"), "API_PORT": str(free_port())}
    process = subprocess.Popen(  # noqa: S603  (our own CLI)
        [sys.executable, "-m", "cli.main", "up", "--source-args", f"--minutes 390 --speed {speed}"],
        cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            record: dict[str, Any] = json.loads((folder / ".flowtape" / "stack.json").read_text())
            health = httpx.get(f"{record['api_url']}/health", timeout=5).json()
            if health["status"] == "ok" and health["tape"]["position"] > 0:
                return process, record
        except (OSError, ValueError, KeyError, httpx.HTTPError):
            pass
        time.sleep(1)
    process.send_signal(signal.SIGINT)
    raise SystemExit("flowtape up did not come up within 300 s")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def frame_line(frames: list[float]) -> str:
    return (
        f"frame time ms: p50 {percentile(frames, 0.5):.2f}  p95 {percentile(frames, 0.95):.2f}"
        f"  p99 {percentile(frames, 0.99):.2f}  max {max(frames):.2f}  ({load()})"
    )


def measure_live(page: Page, seconds: float) -> None:
    # the synthetic market starts late on a loaded machine
    page.wait_for_function("window.flowtape.lists.flow.size > 0", timeout=360_000)
    page.evaluate("window.flowtape.frames.clear()")
    rows_before = page.evaluate(
        "window.flowtape.lists.flow.size + window.flowtape.lists.prints.size"
    )
    time.sleep(seconds)
    frames: list[float] = page.evaluate("window.flowtape.frames.all()")
    rows_after = page.evaluate(
        "window.flowtape.lists.flow.size + window.flowtape.lists.prints.size"
    )
    print(f"live tape: {len(frames)} frames in {seconds:.0f} s, "
          f"{(rows_after - rows_before) / seconds:.1f} rows/s drawn (flow + option prints, "
          "lists capped)")  # fmt: skip
    print(f"  {frame_line(frames)}")


def measure_empty_page(page: Page, api_url: str, seconds: float) -> None:
    """The same frame measure on a page that draws nothing, under the same load."""
    page.goto(f"{api_url}/health")
    page.add_script_tag(
        type="module",
        content="import { measureFrames } from '/web/frames.js'; window.empty = measureFrames();",
    )
    page.wait_for_function("window.empty !== undefined")
    time.sleep(seconds)
    frames: list[float] = page.evaluate("window.empty.all()")
    print(f"empty page: {len(frames)} frames in {seconds:.0f} s")
    print(f"  {frame_line(frames)}")


def self_times(events: list[dict[str, Any]]) -> collections.Counter[str]:
    """Each event name's own time (µs) on one thread: its duration less its children's."""
    own: collections.Counter[str] = collections.Counter()
    stack: list[dict[str, Any]] = []
    for event in sorted(events, key=lambda e: (e["ts"], -e["dur"])):
        while stack and stack[-1]["ts"] + stack[-1]["dur"] <= event["ts"]:
            stack.pop()
        if stack:
            own[stack[-1]["name"]] -= event["dur"]
        own[event["name"]] += event["dur"]
        stack.append(event)
    return own


def kind_of(name: str) -> str:
    # GC first: V8.GC_* names would otherwise read as script
    for kind in ("gc", *MAIN_THREAD_KINDS):
        if name.startswith(MAIN_THREAD_KINDS[kind]):
            return kind
    return "other"


def long_tasks(spans: list[dict[str, Any]], seconds: float) -> None:
    """The main thread's tasks over a frame's budget: their wall time beside the thread's own
    CPU time in them (the rest it waited for a core: the stack shares the machine)."""
    tops: list[dict[str, Any]] = []
    for event in sorted(spans, key=lambda e: (e["ts"], -e["dur"])):
        if not tops or event["ts"] >= tops[-1]["ts"] + tops[-1]["dur"]:
            tops.append(event)
    long = [e for e in tops if e["dur"] > FRAME_BUDGET_US and "tdur" in e]
    if not long:
        print("  main-thread tasks over 16 ms: none")
        return
    walls = [e["dur"] / 1000 for e in long]
    cpus = [e["tdur"] / 1000 for e in long]
    print(f"  main-thread tasks over 16 ms: {len(long) / seconds:.1f}/s, wall ms p50 "
          f"{percentile(walls, 0.5):.1f} p95 {percentile(walls, 0.95):.1f}, the thread's CPU ms "
          f"in them p50 {percentile(cpus, 0.5):.1f} p95 {percentile(cpus, 0.95):.1f}")  # fmt: skip


def trace_breakdown(browser: Browser, page: Page, seconds: float) -> None:
    """Where the time goes while the tape runs, from a Chromium trace of `seconds`."""
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    page.evaluate("window.flowtape.frames.clear()")
    time.sleep(seconds)
    frames: list[float] = page.evaluate("window.flowtape.frames.all()")
    events = json.loads(browser.stop_tracing())["traceEvents"]
    threads = {
        (e["pid"], e["tid"]): e["args"]["name"]
        for e in events
        if e.get("ph") == "M" and e.get("name") == "thread_name"
    }
    spans: dict[tuple[int, int], list[dict[str, Any]]] = collections.defaultdict(list)
    for event in events:
        if event.get("ph") == "X" and "dur" in event:
            spans[event["pid"], event["tid"]].append(event)
    per_s = 1000 * seconds  # µs over the trace -> ms per second
    print(f"trace of {seconds:.0f} s (traced frames: {frame_line(frames)})")
    busy: collections.Counter[str] = collections.Counter()
    for thread, thread_spans in spans.items():
        name = threads.get(thread, "?")
        if name != "CrRendererMain":
            busy[name] += sum(self_times(thread_spans).values())
            continue
        own = self_times(thread_spans)
        commits = sum(1 for e in thread_spans if e["name"] == "ProxyMain::BeginMainFrame::commit")
        kinds: collections.Counter[str] = collections.Counter()
        for event_name, us in own.items():
            kinds[kind_of(event_name)] += us
        print(f"  renderer main thread: busy {sum(own.values()) / per_s:.0f} ms/s, "
              f"{commits / seconds:.0f} frames committed/s")  # fmt: skip
        for kind, us in kinds.most_common():
            print(f"    {kind:32s} {us / per_s:6.1f} ms/s")
        for event_name, us in own.most_common(14):
            print(f"      {event_name[:60]:60s} {us / per_s:6.1f} ms/s ({kind_of(event_name)})")
        callbacks: collections.Counter[str] = collections.Counter()
        calls: collections.Counter[str] = collections.Counter()
        for event in thread_spans:
            data = event.get("args", {}).get("data", {})
            if event["name"] == "FunctionCall" and data.get("url"):
                where = f"{data.get('functionName') or '?'} ({data['url'].rsplit('/', 1)[-1]})"
                callbacks[where] += event["dur"]
                calls[where] += 1
        for where, us in callbacks.most_common(4):
            print(f"    script {where:40s} {us / per_s:6.1f} ms/s, {calls[where] / seconds:.0f}/s")
        long_tasks(thread_spans, seconds)
    print("  other threads (busy ms/s): " + ", ".join(
        f"{name} {us / per_s:.0f}" for name, us in busy.most_common(6)))  # fmt: skip


def store_run(warehouse: Warehouse) -> None:
    for table in RUN_TABLES:
        # the live rows are selected first: in one SELECT, WHERE run_id would mean the alias
        warehouse.command(
            f"INSERT INTO {table} SELECT * REPLACE ('{STORED}' AS run_id) "  # noqa: S608  (our names)
            f"FROM (SELECT * FROM {table} WHERE run_id = 'live')"
        )
        copied = warehouse.scalar(f"SELECT count() FROM {table} WHERE run_id = '{STORED}'")  # noqa: S608
        print(f"stored run {STORED}: {copied} rows of {table}")
    register_run(warehouse, STORED, kind="replay", description="bench copy of live",
                 params={}, status="done")  # fmt: skip


def measure_stream(api_url: str) -> None:
    """The playback stream's own pace at 60x, read over HTTP: event time over wall time from
    its first event to its last."""
    first: tuple[float, int] | None = None
    last: tuple[float, int] | None = None
    count = 0
    params = {"speed": "60", "channels": "packets,alerts"}
    with httpx.stream("GET", f"{api_url}/v1/playback/{STORED}", params=params, timeout=300) as r:
        for line in r.iter_lines():
            frame = json.loads(line.removeprefix("data: ")) if line.startswith("data: ") else {}
            if frame.get("source") != "playback":
                continue
            ts = frame["data"].get("ts_start", frame["data"].get("ts_event"))
            last = time.monotonic(), ts
            first = first or last
            count += 1
    if first is None or last is None or last[0] - first[0] < 0.5:
        print("playback stream: the stored run plays out within half a second; run longer")
        return
    pace = (last[1] - first[1]) / 1e9 / (last[0] - first[0])
    print(f"playback stream at 60x: {count} events over {last[0] - first[0]:.1f} s, "
          f"pace {pace:.1f}x ({100 * (pace / 60 - 1):+.1f} %) ({load()})")  # fmt: skip


# Samples (wall ms, position clock ns) at every animation frame until the playback ends.
SAMPLER = """
window.paceSamples = [];
(function sample() {
  const playback = window.flowtape.playback;
  if (playback.clock !== null) window.paceSamples.push([performance.now(), playback.clock]);
  if (playback.state === "playing" || playback.clock === null) requestAnimationFrame(sample);
})();
"""


def measure_playback(page: Page, seconds: float) -> None:
    page.select_option("#run", STORED)
    page.wait_for_function("document.getElementById('status').textContent.includes('press Play')")
    page.fill("#speed", "60")
    page.click("#pb-play")
    page.evaluate(SAMPLER)
    try:
        page.wait_for_function(
            "window.flowtape.playback.state !== 'playing'", timeout=seconds * 1000, polling=500
        )
    except PlaywrightTimeout:
        page.click("#pb-pause")
    state = page.evaluate("window.flowtape.playback.state")
    samples: list[list[float]] = page.evaluate("window.paceSamples")
    if len(samples) < 2 or samples[-1][0] - samples[0][0] < 500:
        print(f"playback in the page ({state}): under half a second of clock; run longer")
        return
    (wall0, clock0), (wall1, clock1) = samples[0], samples[-1]
    pace = (clock1 - clock0) / 1e9 / ((wall1 - wall0) / 1000)
    print(f"playback in the page at 60x ({state}) over {(wall1 - wall0) / 1000:.1f} s: position "
          f"clock {pace:.1f}x ({100 * (pace / 60 - 1):+.1f} %) ({load()})")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--speed", type=float, default=1.0, help="synthetic pace (1 = default)")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--playback-seconds", type=float, default=20.0)
    parser.add_argument("--trace", type=float, default=0.0, help="seconds of Chromium trace")
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="bench-web-"))
    process, record = start_up(folder, args.speed)
    try:
        print(f"flowtape up, synthetic market at {args.speed:g}x: {record['api_url']}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path="/usr/bin/chromium",
                                                 args=CHROMIUM_ARGS)  # fmt: skip
            page = browser.new_page(viewport={"width": 1600, "height": 900})
            page.goto(f"{record['api_url']}/?min_premium=0")
            measure_live(page, args.seconds)
            if args.trace:
                trace_breakdown(browser, page, args.trace)
            measure_empty_page(page, record["api_url"], min(args.seconds, 10))
            with Warehouse.connect(record["urls"]["clickhouse"], "flowtape") as warehouse:
                store_run(warehouse)
            measure_stream(record["api_url"])
            page.goto(f"{record['api_url']}/?min_premium=0")
            page.wait_for_function("window.flowtape !== undefined")
            measure_playback(page, args.playback_seconds)
            browser.close()
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(120)


if __name__ == "__main__":
    main()
