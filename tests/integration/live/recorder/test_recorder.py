"""The recorder against a real JetStream: what it writes, replaying it, and kill -9."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from compute.candles import BufferConfig
from infra.bus import Bus
from infra.recording import committed_position, part_name
from live.recorder.service import Recorder, RecorderConfig
from replay.parquet import replay_recording
from tests.conftest import Servers
from tests.integration.live.daemon.running import caught_up, running_daemon
from tests.integration.live.recorder.session import (
    publish_session,
    read_type,
    recorded_candles,
    session_messages,
)

CONFIG = BufferConfig(retention={"1m": 500, "15m": 100, "1h": 10, "4h": 5}, trades_kept=10_000)
SERIES = [("databento", "AAPL"), ("databento", "MSFT"), ("binance-spot", "BTC-USDT")]


async def record(bus: Bus, root: Path, **options: object) -> Recorder:
    recorder = Recorder(bus, RecorderConfig(root=root, buffers=CONFIG, **options))  # type: ignore[arg-type]
    await recorder.run(until_idle=True)
    return recorder


async def test_replaying_the_recording_gives_the_live_daemons_books_and_candles(
    bus: Bus, tmp_path: Path, socket_path: Path
) -> None:
    messages = session_messages(seed=3, messages=60)
    async with running_daemon(bus, socket_path, retention=CONFIG.retention,
                              trades_kept=CONFIG.trades_kept) as daemon:  # fmt: skip
        await publish_session(bus, messages)
        await caught_up(daemon, bus)
        recorder = await record(bus, tmp_path / "rec", rotate_rows=300)
        live = daemon.market

        replayed = replay_recording(tmp_path / "rec", CONFIG)
        assert replayed.events == sum(len(m) for m in messages)
        assert replayed.book_state.counters == live.book_state.counters
        for venue, symbol in SERIES:
            for interval in CONFIG.retention:
                expected = live.buffers.candles(venue, symbol, interval, 10_000)
                assert expected, (venue, symbol, interval)
                assert replayed.buffers.candles(venue, symbol, interval, 10_000) == expected
            assert replayed.buffers.trades(venue, symbol, 10_000) == live.buffers.trades(
                venue, symbol, 10_000
            )
            assert replayed.book(venue, symbol, 10) == live.book(venue, symbol, 10)
    # The recorded candles are the closed ones: every candle of the run but the open ones.
    recorded = recorded_candles(tmp_path / "rec")
    for venue, symbol in SERIES:
        for interval in CONFIG.retention:
            closed = (live.buffers.candles(venue, symbol, interval, 10_000) or [])[:-1]
            assert recorded.get((venue, symbol, interval), []) == closed
    assert recorder.metrics.rotations > 3
    assert {p.name for p in (tmp_path / "rec").glob("date=*")} == {
        "date=2023-11-15", "date=2023-11-16",
    }  # fmt: skip
    raw_rows = sum(len(read_type(tmp_path / "rec", kind)) for kind in ("trades", "quotes", "depth"))
    assert raw_rows == sum(len(m) for m in messages)
    assert read_type(tmp_path / "rec", "book_snapshots")


def every_visible_file_is_whole(root: Path) -> int:
    """Read each Parquet file under its final name to the end; their count."""
    files = list(root.glob("date=*/venue=*/type=*/part-*.parquet"))
    for path in files:
        metadata = pq.read_metadata(path)
        assert pq.read_table(path).num_rows == metadata.num_rows > 0, path
    return len(files)


@pytest.mark.slow
async def test_kill_9_mid_write_leaves_only_whole_files_and_the_resumed_recording_is_exact(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    messages = session_messages(seed=11, messages=3_000, per_message=10)
    stop_feeding = asyncio.Event()
    published = 0

    async def feed() -> None:  # the log grows while the recorder is being killed
        nonlocal published
        while published < len(messages) and not stop_feeding.is_set():
            await publish_session(bus, messages[published : published + 10])
            published += len(messages[published : published + 10])
            await asyncio.sleep(0.08)

    async def committed_beyond(position: int) -> int:
        for _ in range(1_200):
            if (now := committed_position(crashed)) > position:
                return now
            await asyncio.sleep(0.05)
        raise AssertionError(f"the recorder committed nothing beyond {position} in 60 s")

    feeding = asyncio.create_task(feed())
    crashed = tmp_path / "crashed"
    env = {**os.environ, "NATS_URL": servers.nats_url, "FLOWTAPE_DATA_DIR": str(tmp_path)}
    rng = random.Random(2)
    position = 0
    for _ in range(3):
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "cli.main", "record", "--out", str(crashed),
            "--rotate-rows", "200", "--rotate-seconds", "0.3",
            env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        position = await committed_beyond(position)  # it is writing: kill it at some instant
        await asyncio.sleep(rng.uniform(0.0, 0.3))
        assert process.returncode is None, "the recorder ended before it was killed"
        os.kill(process.pid, signal.SIGKILL)
        await process.wait()
        every_visible_file_is_whole(crashed)
        position = committed_position(crashed)
    stop_feeding.set()
    await feeding
    await publish_session(bus, messages[published : published + 10])  # more after the crash
    published += 10

    reference = await record(bus, tmp_path / "reference", rotate_rows=500)
    assert reference.metrics.events == published * 10 and position < published
    resumed = await record(bus, crashed, rotate_rows=500)
    assert every_visible_file_is_whole(crashed) > 0
    assert not list(crashed.glob("**/.*.tmp"))
    assert resumed.metrics.restored_events > 0
    for kind in ("trades", "quotes", "depth", "book_snapshots", "candles"):
        assert read_type(crashed, kind) == read_type(tmp_path / "reference", kind), kind


async def test_a_rotation_cut_short_is_removed_on_start_and_written_again(
    bus: Bus, tmp_path: Path
) -> None:
    messages = session_messages(seed=5, messages=40)
    await publish_session(bus, messages[:20])
    root = tmp_path / "rec"
    await record(bus, root, rotate_rows=100)
    position = committed_position(root)
    # What kill -9 in the middle of the next rotation leaves: one file renamed before the
    # position was committed, and one half-written temporary file.
    some = next(root.glob("date=*/venue=*/type=trades/part-*.parquet"))
    renamed = some.with_name(part_name(position + 1, position + 5))
    renamed.write_bytes(some.read_bytes())
    half = some.with_name(f".{part_name(position + 1, position + 5)}.tmp")
    half.write_bytes(some.read_bytes()[:100])
    await publish_session(bus, messages[20:])
    resumed = await record(bus, root, rotate_rows=100)
    assert resumed.metrics.removed_on_start == 2
    assert not half.exists()
    reference = tmp_path / "reference"
    await record(bus, reference, rotate_rows=100)
    for kind in ("trades", "quotes", "depth", "book_snapshots", "candles"):
        assert read_type(root, kind) == read_type(reference, kind), kind
