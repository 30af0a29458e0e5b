"""`flowtape ingest` as a process: with its HTTP, stopped by SIGTERM once its /bus-stats
say it has done enough, or refusing to start."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp


async def ingest_until(
    args: list[str],
    env: dict[str, str],
    cwd: Path,
    port: int,
    enough: Callable[[dict[str, Any]], bool],
) -> tuple[int | None, str, str]:
    """Run `flowtape ingest ARGS --http-port PORT`; SIGTERM once `enough(/bus-stats)`;
    the return code, stdout and stderr."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "cli.main", "ingest", *args, "--http-port", str(port),
        cwd=cwd, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as http:
            async with asyncio.timeout(60):
                while True:
                    try:
                        async with http.get("/bus-stats") as response:
                            stats = await response.json()
                    except aiohttp.ClientConnectionError:
                        stats = {}
                    if stats and enough(stats):
                        break
                    await asyncio.sleep(0.05)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = await asyncio.wait_for(process.communicate(), 60)
    finally:
        if process.returncode is None:
            process.kill()
    return process.returncode, stdout.decode(), stderr.decode()


def ingest_refused(args: list[str], cwd: Path) -> list[str]:
    """The stderr lines of `flowtape ingest ARGS` run without servers, which must fail."""
    result = subprocess.run(  # noqa: S603  (our own command)
        [sys.executable, "-m", "cli.main", "ingest", *args],
        cwd=cwd, env={**os.environ, "FLOWTAPE_DATA_DIR": str(cwd)},
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode != 0  # noqa: S101  (a test helper)
    return result.stderr.strip().splitlines()
