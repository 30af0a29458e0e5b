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
Every figure is printed with the 1-minute load average.

    .venv/bin/python bench/bench_web_frames.py [--speed 1] [--seconds 30] [--playback-seconds 20]

Run it once with --speed 1 (the synthetic default rate) and once with --speed 10. The stored
run spans the event time the tape ran (up to --seconds x speed plus start-up): at 60x a
minute of it plays in a second.
"""

from __future__ import annotations

import argparse
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
from playwright.sync_api import Page, sync_playwright
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
