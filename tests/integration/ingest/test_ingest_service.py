"""The ingest service against real JetStream servers."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from infra.bus import Bus
from infra.embedded import nats_server
from infra.warehouse import TABLES, Warehouse
from ingest.memory import IterableSource
from ingest.service import IngestConfig, IngestService
from live.sink.service import Sink
from schemas.events import Event, Gap, OptionPrint, OptionQuote, Quarantined
from schemas.subjects import RAW_STREAM
from tests.integration.live.sessions import session_events
from tests.kit.events import print_at as trade
from tests.kit.events import quote_at as quote

pytestmark = pytest.mark.slow


async def stored_events(bus: Bus) -> list[Event]:
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    events: list[Event] = []
    while batch := await reader.fetch(500, timeout_s=0.5):
        events.extend(e for message in batch for e in message.events)
    await reader.close()
    return events


def session(n: int) -> list[Event]:
    events: list[Event] = []
    for t in range(1, n + 1):
        events.append(quote(2 * t))
        events.append(trade(2 * t + 1))
    return events


async def test_publishing_a_synthetic_session_twice_after_the_duplicate_window_stores_it_once(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    events = session_events(seed=5)
    await bus.ensure_streams(duplicate_window_s=0.5)
    first = await IngestService(IterableSource("synthetic", events), bus).run()
    assert first.repeats_skipped == 0
    await asyncio.sleep(1.0)  # past JetStream's duplicate window
    second = await IngestService(IterableSource("synthetic", events), bus).run()
    assert second.repeats_skipped == len(events) and second.published_messages == 0
    # downstream: the sink stores each event once
    await Sink(bus, fresh_warehouse).run_until_idle()
    expected = Counter(TABLES[type(e)] for e in events if type(e) in TABLES)
    stored = {
        table: fresh_warehouse.scalar(f"SELECT count() FROM `{table}`")  # noqa: S608
        for table in expected
    }
    assert stored == dict(expected) and expected["option_prints"] > 1000


async def test_a_longer_session_published_later_adds_only_what_is_new(bus: Bus) -> None:
    await bus.ensure_streams(duplicate_window_s=0.5)
    await IngestService(IterableSource("synthetic", session(300)), bus).run()
    await asyncio.sleep(1.0)
    later = await IngestService(IterableSource("synthetic", session(310)), bus).run()
    assert later.repeats_skipped == 600
    assert len(await stored_events(bus)) == 620


class GatedSource:
    """Yields a first part, waits for a gate, then yields the rest."""

    name = "gated"

    def __init__(self, before: list[Event], after: list[Event], gate: asyncio.Event) -> None:
        self.before, self.after, self.gate = before, after, gate

    async def connect(self) -> None: ...

    async def close(self) -> None: ...

    async def events(self) -> AsyncIterator[Event]:
        for event in self.before:
            yield event
        await self.gate.wait()
        for event in self.after:
            yield event


async def test_under_a_stalled_log_trades_survive_quotes_conflate_and_drops_leave_a_gap(
    tmp_path: Path,
) -> None:
    server = nats_server(tmp_path / "nats")
    server.start()
    port = int(server.url.rsplit(":", 1)[1])
    bus = await Bus.connect(server.url, timeout_s=1.0)
    await bus.ensure_streams()
    gate = asyncio.Event()
    before = [trade(1)]
    # while the log is down: 40 quotes of one instrument, then more trades than fit
    after = [quote(t) for t in range(10, 50)] + [trade(t) for t in range(100, 112)]
    config = IngestConfig(
        buffer_capacity=10, flush_interval_s=0.01, backoff_max_s=0.2, heartbeat_interval_s=0.1
    )
    service = IngestService(GatedSource(before, after, gate), bus, config)
    task = asyncio.create_task(service.run())
    try:
        await asyncio.sleep(0.5)  # the first trade is published
        server.stop()
        while not service.metrics.publish_failures:  # noqa: ASYNC110  (polling a counter)
            await asyncio.sleep(0.05)  # until a heartbeat finds the log gone
        assert service.health == "retrying"
        gate.set()
        await asyncio.sleep(1.0)  # the service buffers and retries
        assert service.health == "degraded"
        server = nats_server(tmp_path / "nats", port=port)
        server.start()
        await asyncio.wait_for(task, 30)
        events = await stored_events(bus)
    finally:
        await bus.close()
        server.stop()
    trades = [e.ts_recv for e in events if isinstance(e, OptionPrint)]
    quotes = [e for e in events if isinstance(e, OptionQuote)]
    gaps = [e for e in events if isinstance(e, Gap)]
    assert trades == [1, *range(102, 112)]  # the two oldest pending trades were the last resort
    assert quotes == []  # conflated to one, then dropped before any trade
    assert [(g.dropped_trades, g.first_ts_recv, g.last_ts_recv) for g in gaps] == [(2, 100, 101)]


class FlakySource:
    """Fails once after its first two events, then serves the rest after reconnecting."""

    name = "flaky"

    def __init__(self, events: list[Event]) -> None:
        self.all = events
        self.connects = 0

    async def connect(self) -> None:
        self.connects += 1

    async def close(self) -> None: ...

    async def events(self) -> AsyncIterator[Event]:
        if self.connects == 1:
            for event in self.all[:2]:
                yield event
            raise ConnectionResetError("feed dropped")
        for event in self.all[2:]:
            yield event


async def test_a_failed_live_source_is_reconnected_and_the_failure_is_quarantined(
    bus: Bus,
) -> None:
    source = FlakySource([trade(t) for t in range(1, 6)])
    config = IngestConfig(reconnect=True, backoff_initial_s=0.01)
    await IngestService(source, bus, config).run()
    stored = await stored_events(bus)
    assert [e.ts_recv for e in stored if isinstance(e, OptionPrint)] == [1, 2, 3, 4, 5]
    (failure,) = [e for e in stored if isinstance(e, Quarantined)]
    assert failure.reason == "source_error" and "feed dropped" in failure.detail
    assert source.connects == 2


class SlowToConnectSource:
    """Connects only after an hour (a source generating a big session, a feed not answering)."""

    name = "slow"

    def __init__(self) -> None:
        self.connecting = asyncio.Event()

    async def connect(self) -> None:
        self.connecting.set()
        await asyncio.sleep(3600)

    async def close(self) -> None: ...

    async def events(self) -> AsyncIterator[Event]:
        yield trade(1)


async def test_a_stop_while_the_source_connects_ends_the_service_at_once(bus: Bus) -> None:
    source = SlowToConnectSource()
    service = IngestService(source, bus)
    running = asyncio.create_task(service.run())
    await asyncio.wait_for(source.connecting.wait(), 5)
    service.stop()
    metrics = await asyncio.wait_for(running, 5)
    assert metrics.published_messages == 0 and await stored_events(bus) == []
