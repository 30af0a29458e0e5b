"""Live compute split into partitions by underlying stores the derived tables one worker stores.

Each scenario publishes the same synthetic session through the ingest service to a fresh
RAW stream, runs `flowtape compute` workers as processes, stores both streams with the sink
and fingerprints every table (analytics.parity: content hashes, run_id and log_seq left out).
The reference is today's unpartitioned mode with one worker; every scenario's DERIVED stream
is also checked against the engine run directly over the session.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from collections import defaultdict
from pathlib import Path
from subprocess import DEVNULL, PIPE

import pytest

import compute.flow as flow
from analytics.parity import DERIVED_TABLES, RAW_TABLES, Fingerprint, fingerprints
from compute.flow.shards import Router
from infra.bus import Bus
from infra.embedded import free_port
from infra.state import StateStore
from ingest.memory import IterableSource
from ingest.service import IngestConfig, IngestService
from live.compute_service import ComputeService
from live.partitions import Partition
from live.sink.service import Sink
from schemas.codec import encode_event
from schemas.errors import ConfigError
from schemas.events import EquityPrint, EquityQuote, Event, Gap, Heartbeat
from schemas.ordering import canonical_key
from schemas.subjects import DERIVED_STREAM, RAW_STREAM, partition_filters
from tests.conftest import Servers, scratch_warehouse
from tests.integration.live.sessions import session_events
from tests.kit.events import gap, heartbeat
from tests.kit.health import read_health
from tests.kit.streams import reset_streams

pytestmark = pytest.mark.slow

SEED = 13
LATENESS_MS = 20_000  # above the event time one ingest message spans (500 events)
PARTITIONS = 2
TABLES = DERIVED_TABLES + RAW_TABLES

Fingerprints = dict[str, Fingerprint]
_reference: dict[int, Fingerprints] = {}  # the one-worker tables, computed once per run


def with_time_signals(events: list[Event]) -> list[Event]:
    """`events` with a heartbeat after every 2 000th and a gap in the middle, in canonical
    order: the events every partition's engine must see."""
    signals: list[Event] = [
        heartbeat(ts_recv=e.ts_recv, source="synthetic") for e in events[::2_000]
    ]
    middle = events[len(events) // 2].ts_recv
    signals.append(
        gap(ts_recv=middle, source="synthetic", first_ts_recv=middle - 10**9, last_ts_recv=middle)
    )
    return sorted(events + signals, key=canonical_key)


class Scenario:
    """One run id over a fresh RAW stream holding the session in `partitions` partitions."""

    def __init__(self, bus: Bus, servers: Servers, folder: Path, partitions: int) -> None:
        self.bus = bus
        self.servers = servers
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.partitions = partitions
        self.run_id = f"live-{uuid.uuid4().hex[:8]}"
        self.events = with_time_signals(session_events(seed=SEED))

    async def publish(self) -> None:
        await reset_streams(self.bus)
        router = Router(self.partitions, stable=True) if self.partitions > 1 else None
        config = IngestConfig(run_id=self.run_id, batch_size=500)
        source = IterableSource("synthetic", self.events)
        await IngestService(source, self.bus, config, partitioner=router).run()

    async def worker(
        self, *partitions: int, health_port: int | None = None
    ) -> asyncio.subprocess.Process:
        """`flowtape compute` for `partitions` (all when none are named)."""
        command = [sys.executable, "-m", "cli.main", "compute", "--until-idle", "--finish",
                   "--batch-messages", "2"]  # fmt: skip
        if partitions:
            command += ["--partitions", ",".join(map(str, partitions))]
        if health_port is not None:
            command += ["--health-port", str(health_port)]
        env = {
            **os.environ, **self.servers.environment(), "FLOWTAPE_RUN_ID": self.run_id,
            "ALLOWED_LATENESS_MS": str(LATENESS_MS), "FLOWTAPE_PARTITIONS": str(self.partitions),
            "FLOWTAPE_DATA_DIR": str(self.folder / ".flowtape"),
        }  # fmt: skip
        return await asyncio.create_subprocess_exec(
            *command, env=env, cwd=self.folder, stdout=DEVNULL, stderr=PIPE
        )

    async def position(self, partition: int) -> int:
        """Partition `partition`'s RAW position: the end of the last batch it journaled since
        its checkpoint, else the checkpoint's (0 before either)."""
        label = Partition(partition, self.partitions).label
        store = StateStore.connect(self.servers.redis_url, self.run_id, partition=label)
        try:
            checkpoint, journal = await store.load(), await store.load_intents()
        finally:
            await store.close()
        if journal:
            return journal[-1][1]
        return 0 if checkpoint is None else checkpoint.position

    async def end_of(self, partition: int) -> int:
        return await self.bus.last_sequence_of(RAW_STREAM, partition_filters(partition))

    async def past(self, partition: int, target: int, worker: asyncio.subprocess.Process) -> int:
        """Wait until `partition` has gone beyond `target`; its position then."""
        while (position := await self.position(partition)) <= target:
            assert worker.returncode is None, "the worker ended before the session's middle"
            await asyncio.sleep(0.01)
        return position

    async def stored(self) -> Fingerprints:
        """The sink's tables of this run: a fingerprint per table."""
        with scratch_warehouse(self.servers) as warehouse:
            await Sink(self.bus, warehouse).run_until_idle()
            return fingerprints(warehouse, self.run_id, TABLES)

    async def derived(self) -> list[bytes]:
        reader = await self.bus.reader(DERIVED_STREAM, start_seq=1)
        events: list[Event] = []
        while batch := await reader.fetch(500, timeout_s=0.5):
            events.extend(e for message in batch for e in message.events)
        await reader.close()
        return sorted(encode_event(e) for e in events)

    def engine_outputs(self) -> list[bytes]:
        state = flow.initial_state(flow.EngineConfig(), self.run_id)
        state, outputs = flow.step(state, self.events)
        state, closing = flow.finish(state)
        return sorted(encode_event(e) for e in outputs + closing)


async def raw_by_last_token(bus: Bus) -> dict[str, list[Event]]:
    """RAW's events by the last token of their subject."""
    reader = await bus.reader(RAW_STREAM, start_seq=1)
    found: dict[str, list[Event]] = defaultdict(list)
    while batch := await reader.fetch(500, timeout_s=0.5):
        for message in batch:
            found[message.subject.rsplit(".", 1)[1]].extend(message.events)
    await reader.close()
    return found


def underlying_of(event: Event) -> str:
    """The underlying of an option event, the symbol of an equity event, else ''."""
    if isinstance(event, EquityPrint | EquityQuote):
        return event.symbol
    return str(getattr(event, "underlying", ""))


async def finished(*workers: asyncio.subprocess.Process) -> None:
    for worker in workers:
        _, errors = await asyncio.wait_for(worker.communicate(), 300)
        assert worker.returncode == 0, errors.decode()[-2000:]


async def checked(scenario: Scenario) -> Fingerprints:
    """The scenario's tables, once its DERIVED stream is shown to hold the engine's outputs
    exactly once."""
    assert await scenario.derived() == scenario.engine_outputs()
    return await scenario.stored()


async def reference(bus: Bus, servers: Servers, folder: Path) -> Fingerprints:
    """Today's mode: one partition, one worker reading all of RAW."""
    if SEED not in _reference:
        one = Scenario(bus, servers, folder / "reference", partitions=1)
        await one.publish()
        await finished(await one.worker())
        tables = _reference[SEED] = await checked(one)
        assert all(count > 0 for count, _ in tables.values()), tables
    return _reference[SEED]


async def published(bus: Bus, servers: Servers, folder: Path) -> tuple[Fingerprints, Scenario]:
    """The reference tables, and a scenario in `PARTITIONS` partitions with RAW published."""
    expected = await reference(bus, servers, folder)
    scenario = Scenario(bus, servers, folder / "partitioned", PARTITIONS)
    await scenario.publish()
    return expected, scenario


async def test_two_workers_store_the_tables_one_worker_stores(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    expected, two = await published(bus, servers, tmp_path)
    by_token = await raw_by_last_token(bus)
    assert sorted(by_token) == ["all", "p0", "p1"]
    assert sum(len(events) for events in by_token.values()) == len(two.events)  # each once
    assert {type(e) for e in by_token["all"]} == {Heartbeat, Gap}
    names = [{underlying_of(e) for e in by_token[f"p{k}"]} for k in range(PARTITIONS)]
    assert names[0] and names[1] and not names[0] & names[1]
    assert names[0] | names[1] == {underlying_of(e) for e in two.events} - {""}
    await finished(await two.worker(0), await two.worker(1))
    for partition in range(PARTITIONS):
        assert await two.position(partition) == await two.end_of(partition)
    assert await checked(two) == expected


async def test_a_worker_killed_mid_session_and_restarted_still_stores_the_same_tables(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    expected, two = await published(bus, servers, tmp_path)
    end = await two.end_of(0)
    first, second = await two.worker(0), await two.worker(1)
    killed_at = await two.past(0, end // 2, first)
    first.send_signal(signal.SIGKILL)
    await first.wait()
    assert 0 < killed_at < end
    await finished(await two.worker(0), second)
    assert await checked(two) == expected


async def test_a_partition_moved_to_a_worker_added_mid_session_keeps_the_same_tables(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    """The rebalancing procedure: stop the worker that runs the partition (SIGTERM), start
    the workers that own the new split; the partition resumes from its own checkpoint."""
    expected, moved = await published(bus, servers, tmp_path)
    end = await moved.end_of(1)
    health_port = free_port()
    both = await moved.worker(health_port=health_port)
    await moved.past(1, end // 2, both)
    status, health = await asyncio.to_thread(read_health, health_port)
    assert (status, health["status"], sorted(health["partitions"])) == (200, "ok", ["0", "1"])
    assert health["partitions"]["1"]["position"] > 0 and health["rawLastSeq"] > 0
    both.send_signal(signal.SIGTERM)
    await finished(both)
    moved_at = await moved.position(1)
    assert 0 < moved_at < end
    await finished(await moved.worker(0), await moved.worker(1))
    assert await checked(moved) == expected


async def test_a_publisher_restarted_on_a_partitioned_log_republishes_nothing(
    bus: Bus, servers: Servers, tmp_path: Path
) -> None:
    scenario = Scenario(bus, servers, tmp_path, PARTITIONS)
    await scenario.publish()
    before = await bus.last_sequence(RAW_STREAM)
    # the market data again (heartbeats and gaps carry no order to compare against)
    market = [e for e in scenario.events if type(e) not in (Heartbeat, Gap)]
    source = IterableSource("synthetic", market)
    config = IngestConfig(run_id=scenario.run_id, batch_size=500)
    router = Router(PARTITIONS, stable=True)
    metrics = await IngestService(source, bus, config, partitioner=router).run()
    assert metrics.repeats_skipped == len(market) > 0
    assert await bus.last_sequence(RAW_STREAM) == before


async def test_a_worker_with_another_partition_count_is_refused(bus: Bus, servers: Servers) -> None:
    run_id = f"live-{uuid.uuid4().hex[:8]}"
    for count in (2, 3, 1):
        partition = Partition(0, count) if count > 1 else None
        store = StateStore.connect(
            servers.redis_url, run_id, partition=partition.label if partition else ""
        )
        service = ComputeService(
            bus, store, flow.EngineConfig(), allowed_lateness_ns=0, partition=partition
        )
        try:
            if count == 2:
                await service.run(until_idle=True)
            else:
                with pytest.raises(ConfigError, match="computed in 2 partition"):
                    await service.run(until_idle=True)
        finally:
            await store.close()
