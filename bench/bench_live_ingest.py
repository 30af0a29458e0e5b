"""The ingest alone at a live rate: the synthetic market of `bench_live.py`, paced in real
time through `IngestService` into an embedded NATS, nothing reading it meanwhile.

Printed: the ingest's CPU per option print (its whole process: source, normalising,
admission, encoding, acknowledged publishing), how far its source fell behind its schedule,
and, read back from RAW afterwards, the messages' spans of event time with the rows that
compute's reorder buffer would flag late at `--lateness-ms` (a flush that spans more event
time than the allowed lateness makes late rows: its first message moves the watermark past
the others' events).

    .venv/bin/python bench/bench_live_ingest.py [--rate 20000] [--seconds 20]
"""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path

from bench_live import create_streams, live_arguments, spawn_paced_ingest

from infra.bus import Bus
from infra.embedded import nats_server
from live.reorder import ReorderBuffer
from schemas.events import RAW_EVENTS
from schemas.subjects import RAW_STREAM


async def read_back(nats_url: str, lateness_ns: int) -> tuple[list[int], int, int]:
    """(each RAW message's span of `ts_recv`, flow events, of them late) in log order."""
    bus = await Bus.connect(nats_url, name="bench-read-back")
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    reorder = ReorderBuffer(lateness_ns)
    spans: list[int] = []
    events = 0
    try:
        while batch := await reader.fetch(500, timeout_s=1.0):
            for message in batch:
                times = [event.ts_recv for event in message.events]
                if times:
                    spans.append(max(times) - min(times))
                for event in message.events:
                    if type(event) in RAW_EVENTS:
                        events += 1
                        reorder.push(event)
    finally:
        await reader.close()
        await bus.close()
    return spans, events, reorder.late


def main() -> None:
    args = live_arguments(__doc__, seconds=20)
    with tempfile.TemporaryDirectory(prefix="bench-live-ingest-") as folder:
        nats = nats_server(Path(folder) / "nats")
        nats.start()
        try:
            asyncio.run(create_streams(nats.url))
            child, mine, _ = spawn_paced_ingest(nats.url, args)
            mine.send("go")
            mine.recv()  # pacing started
            _, behind_s, cpu_s = mine.recv()
            child.join()
            spans, events, late = asyncio.run(read_back(nats.url, args.lateness_ms * 1_000_000))
        finally:
            nats.stop()
    prints = args.rate * args.seconds
    spans.sort()
    p50, p99 = spans[len(spans) // 2] / 1e6, spans[int(len(spans) * 0.99)] / 1e6
    print(
        f"rate {args.rate:,.0f} option prints/s for {args.seconds} s (ingest flush "
        f"{args.flush_ms:g} ms): ingest CPU {cpu_s:.2f} s = {cpu_s / prints * 1e6:.1f} us per "
        f"print; the source fell up to {behind_s * 1e3:,.0f} ms behind its schedule"
    )
    print(
        f"RAW: {len(spans):,} messages spanning p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
        f"{spans[-1] / 1e6:.1f} ms of event time; {late:,} of {events:,} flow events late at "
        f"{args.lateness_ms} ms of allowed lateness"
    )


if __name__ == "__main__":
    main()
