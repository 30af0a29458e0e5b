"""Crypto ingest rate from the recorded Binance frames (shared/data/crypto).

Prints, for the same frames: the bare JSON decode rate (msgspec and the standard library),
the parse rate (frame -> events), and the end-to-end rate parse -> bounded queue ->
acknowledged JetStream publishes (an embedded nats-server in a temporary folder).
Usage: `.venv/bin/python bench/bench_crypto_ingest.py [repeat]` (the frames `repeat` times).
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import msgspec

from infra.bus import Bus
from infra.embedded import nats_server
from ingest.binance.parsing import BinanceNormaliser
from ingest.marketdata.service import MarketDataConfig, MarketDataService
from ingest.marketdata.symbology import default_table
from schemas.events import Event

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "crypto"
FILES = (
    ("binance-spot.jsonl", "binance-spot"),
    ("binance-spot-btc-eth-dot.jsonl", "binance-spot"),
    ("binance-futures.jsonl", "binance-usdm"),
)


def load(repeat: int) -> list[tuple[str, str, int]]:
    """(venue, frame text, receive time) for every frame, `repeat` times over."""
    rows = []
    for name, venue in FILES:
        with (DATA / name).open() as handle:
            rows += [(venue, r["raw"], r["recv_ts_ns"]) for r in map(json.loads, handle)]
    return rows * repeat


class RecordedFrames:
    """A Source parsing recorded frames as fast as it can (no socket)."""

    def __init__(self, rows: list[tuple[str, str, int]]) -> None:
        self.name = "binance-bench"
        self.rows = rows
        table = default_table()
        self.parsers = {v: BinanceNormaliser(v, v, table) for v in ("binance-spot", "binance-usdm")}
        self.produced = 0

    async def connect(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def events(self) -> AsyncIterator[Event]:
        for index, (venue, text, ts_recv) in enumerate(self.rows):
            for event in self.parsers[venue].frame(text, ts_recv):
                self.produced += 1
                yield event
            if index % 500 == 0:
                await asyncio.sleep(0)


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:>12,.0f}/s"


async def end_to_end(rows: list[tuple[str, str, int]], nats_url: str) -> tuple[int, float]:
    bus = await Bus.connect(nats_url)
    await bus.ensure_streams()
    source = RecordedFrames(rows)
    service = MarketDataService(
        [source], bus, MarketDataConfig(run_id="bench", queue_capacity=len(rows) * 2)
    )
    started = time.perf_counter()
    running = asyncio.create_task(service.run())
    while service.metrics.published_events < source.produced or source.produced == 0:
        await asyncio.sleep(0.01)
        if running.done():
            break
    elapsed = time.perf_counter() - started
    service.stop()
    await running
    await bus.close()
    return service.metrics.published_events, elapsed


def main() -> None:
    repeat = int(sys.argv[1]) if len(sys.argv) > 1 else 1
    rows = load(repeat)
    texts = [text for _, text, _ in rows]
    print(f"{len(rows):,} recorded Binance frames ({repeat}x the three recordings)")

    decode = msgspec.json.Decoder().decode
    started = time.perf_counter()
    for text in texts:
        decode(text)
    seconds = time.perf_counter() - started
    print(f"JSON decode (msgspec)          {rate(len(texts), seconds)} frames")
    started = time.perf_counter()
    for text in texts:
        json.loads(text)
    seconds = time.perf_counter() - started
    print(f"JSON decode (json)             {rate(len(texts), seconds)} frames")

    parsers = RecordedFrames(rows).parsers
    started = time.perf_counter()
    events = sum(len(parsers[venue].frame(text, ts)) for venue, text, ts in rows)
    seconds = time.perf_counter() - started
    print(f"parse (frame -> events)        {rate(events, seconds)} events")

    with tempfile.TemporaryDirectory() as folder:
        nats = nats_server(Path(folder) / "nats")
        nats.start()
        try:
            published, seconds = asyncio.run(end_to_end(rows, nats.url))
        finally:
            nats.stop()
    print(f"parse -> queue -> JetStream    {rate(published, seconds)} events ({published:,})")


if __name__ == "__main__":
    main()
