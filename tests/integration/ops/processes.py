"""flowtape services as processes for the monitor's tests, and polling the monitor until it
says what a test waits for."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from ops.monitor import Condition, Monitor


def start_flowtape(args: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
    """`flowtape ARGS` in this interpreter, its output kept for a failure's message."""
    argv = [sys.executable, "-m", "cli.main", *args]
    return subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # noqa: S603  (this interpreter)


def synthetic_ingest(
    env: dict[str, str], health_port: int, *, speed: float, minutes: int
) -> subprocess.Popen[bytes]:
    """A synthetic market paced `speed` times real time for `minutes` of session."""
    args = ["ingest", "--source", "synthetic", "--speed", str(speed), "--minutes", str(minutes),
            "--health-port", str(health_port)]  # fmt: skip
    return start_flowtape(args, env)


def stop(process: subprocess.Popen[bytes]) -> str:
    """SIGTERM (after SIGCONT, in case it was stopped); its stderr's tail."""
    if process.poll() is None:
        process.send_signal(signal.SIGCONT)  # a stopped process cannot act on SIGTERM
        process.terminate()
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate(timeout=10)
    return err.decode(errors="replace")[-3000:]


async def poll_until(
    monitor: Monitor,
    holds: Callable[[dict[Condition, str]], bool],
    timeout_s: float,
    every_s: float = 1.0,
) -> dict[Condition, str]:
    """Poll every `every_s` seconds until the firing conditions satisfy `holds`."""
    deadline = time.monotonic() + timeout_s
    while True:
        firing = await monitor.poll()
        if holds(firing):
            return firing
        if time.monotonic() > deadline:
            raise AssertionError(f"the monitor never said it; firing: {firing}")
        await asyncio.sleep(every_s)
