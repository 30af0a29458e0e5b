"""The live compute service on real JetStream and Redis gives the engine's own output."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import os
import signal
import sys
import uuid
from collections import defaultdict
from subprocess import DEVNULL

import pytest

import compute.flow as flow
from compute.flow.layout import S_CLOCK
from infra.bus import Bus, LogMessage
from infra.state import StateStore
from ingest.memory import IterableSource
from ingest.service import IngestService
from live.compute_service import SNAPSHOT_EVERY, ComputeService
from live.partitions import Partition
from schemas.codec import encode_batch
from schemas.events import Event
from schemas.subjects import DERIVED_STREAM
from tests.conftest import Servers
from tests.integration.live.sessions import session_events

pytestmark = pytest.mark.slow

LATENESS_NS = 3_600 * 10**9  # a fast replay through the log spans minutes of event time


def by_type(events: list[Event]) -> dict[str, bytes]:
    groups: dict[str, list[Event]] = defaultdict(list)
    for event in events:
        groups[type(event).__name__].append(event)
    return {name: encode_batch(group) for name, group in sorted(groups.items())}


def engine_outputs(events: list[Event], run_id: str) -> list[Event]:
    state = flow.initial_state(flow.EngineConfig(), run_id)
    state, outputs = flow.step(state, events)
    state, closing = flow.finish(state)
    return outputs + closing


async def derived_messages(bus: Bus) -> list[LogMessage]:
    reader = await bus.reader(DERIVED_STREAM, start_seq=1)
    found: list[LogMessage] = []
    while batch := await reader.fetch(500, timeout_s=0.5):
        found.extend(batch)
    await reader.close()
    return found


async def derived(bus: Bus) -> list[Event]:
    return [event for message in await derived_messages(bus) for event in message.events]


async def producers(bus: Bus) -> set[str]:
    return {message.producer for message in await derived_messages(bus)}


async def messages_of(bus: Bus, run_id: str) -> list[tuple[str, bytes]]:
    """DERIVED's messages of `run_id`, each as its subject and encoded events."""
    return [
        (m.subject, encode_batch(m.events))
        for m in await derived_messages(bus)
        if m.run_id == run_id
    ]


async def test_live_service_outputs_equal_the_engine_run_directly(
    bus: Bus, servers: Servers
) -> None:
    events = session_events(seed=11)
    await IngestService(IterableSource("synthetic", events), bus).run()
    run_id = f"live-{uuid.uuid4().hex[:8]}"
    store = StateStore.connect(servers.redis_url, run_id)
    service = ComputeService(
        bus, store, flow.EngineConfig(), allowed_lateness_ns=LATENESS_NS, max_batch_messages=4
    )
    metrics = await service.run(until_idle=True, finish=True)
    await store.close()
    assert metrics.batches > 3 and metrics.repeats_dropped == 0
    got = await derived(bus)
    expected = engine_outputs(events, run_id)
    assert len(got) == len(expected) > 1000
    assert by_type(got) == by_type(expected)
    # each message names its producer, the same after a restart or a move (the sink's
    # held singles count per producer)
    assert await producers(bus) == {"compute"}
    partition = Partition(1, 2)
    moved = ComputeService(
        bus, store, flow.EngineConfig(), allowed_lateness_ns=LATENESS_NS, partition=partition
    )
    assert moved.producer == "compute/p1of2"


async def test_kill_9_mid_session_and_restart_gives_the_uninterrupted_output(
    bus: Bus, servers: Servers
) -> None:
    events = session_events(seed=12)
    await IngestService(IterableSource("synthetic", events), bus).run()
    run_id = f"live-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ, **servers.environment(), "FLOWTAPE_RUN_ID": run_id,
        "ALLOWED_LATENESS_MS": str(LATENESS_NS // 10**6),
    }  # fmt: skip
    command = [sys.executable, "-m", "cli.main", "compute", "--until-idle", "--finish",
               "--batch-messages", "1"]  # fmt: skip
    store = StateStore.connect(servers.redis_url, run_id)
    last_seq = await bus.last_sequence("RAW")
    journals = []
    for target in (last_seq // 4, last_seq // 2):  # kill it twice, mid-session
        process = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL)
        while not (journal := await store.load_intents()) or journal[-1][1] < target:
            assert process.returncode is None, "the service ended before it could be killed"
            await asyncio.sleep(0.01)
        process.send_signal(signal.SIGKILL)
        await process.wait()
        journals.append(journal)
    await store.close()
    # killed mid-session, with batches done since the checkpoint: the restart redoes them
    assert all(len(journal) > 1 for journal in journals)
    assert 0 < journals[0][-1][1] < last_seq and journals[0][-1][1] <= journals[1][-1][1]
    finished = await asyncio.create_subprocess_exec(*command, env=env, stdout=DEVNULL)
    assert await asyncio.wait_for(finished.wait(), 300) == 0
    got = await derived(bus)
    assert by_type(got) == by_type(engine_outputs(events, run_id))


async def test_a_restart_past_the_duplicate_window_publishes_again_only_the_cut_batch(
    bus: Bus, servers: Servers
) -> None:
    events = session_events(seed=12)
    await IngestService(IterableSource("synthetic", events), bus).run()
    await bus.ensure_streams(duplicate_window_s=0.1)  # the least nats-server takes
    run_id = f"live-{uuid.uuid4().hex[:8]}"

    def service(store: StateStore) -> ComputeService:
        # outputs from the first batches (a lateness of 1 ms), no checkpoint before the cut
        return ComputeService(bus, store, flow.EngineConfig(), allowed_lateness_ns=10**6,
                              max_batch_messages=1, checkpoint_every_s=3_600)  # fmt: skip

    # uninterrupted, with its state in another Redis database: the reference
    reference = StateStore.connect(f"{servers.redis_url}/1", run_id)
    await service(reference).run(until_idle=True, finish=True)
    await reference.close()
    expected = await messages_of(bus, run_id)
    await bus.js.purge_stream(DERIVED_STREAM)
    # cut mid-session with many batches journaled, restarted after the duplicate window
    store = StateStore.connect(servers.redis_url, run_id)
    cut = asyncio.create_task(service(store).run(until_idle=True, finish=True))
    while len(journal := await store.load_intents()) < 20:
        assert not cut.done(), "the service ended before it could be cut"
        await asyncio.sleep(0.005)
    cut.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await cut
    published = len(await messages_of(bus, run_id))
    await asyncio.sleep(0.3)
    await service(store).run(until_idle=True, finish=True)
    await store.close()
    got = await messages_of(bus, run_id)
    # nothing lost, nothing foreign; the batches before the cut were published once
    assert set(got) == set(expected) and len(expected) > published > 0
    repeated = len(got) - len(set(got))
    types_per_batch = len({subject for subject, _ in expected})
    assert len(journal) >= 20 and repeated <= types_per_batch


async def test_the_state_at_the_start_of_each_day_is_saved_for_replays(
    bus: Bus, servers: Servers
) -> None:
    events = session_events(seed=11)
    await IngestService(IterableSource("synthetic", events), bus).run()
    run_id = f"live-{uuid.uuid4().hex[:8]}"
    store = StateStore.connect(servers.redis_url, run_id)
    service = ComputeService(bus, store, flow.EngineConfig(), allowed_lateness_ns=LATENESS_NS)
    await service.run(until_idle=True)
    from replay.sources import stored_snapshot

    day = dt.datetime.fromtimestamp(events[0].ts_recv // 10**9, dt.UTC).date().isoformat()  # type: ignore[attr-defined]
    snapshot = stored_snapshot(servers.redis_url, run_id, day, "replay-x")
    await store.close()
    assert snapshot is not None and snapshot.run_id == "replay-x"
    assert snapshot.scalars[S_CLOCK] == -1  # taken before the first event of the day


async def test_a_snapshot_replaces_the_deltas_once_they_outweigh_it(
    bus: Bus, servers: Servers
) -> None:
    events = session_events(seed=13, minutes=4)
    await IngestService(IterableSource("synthetic", events), bus).run()
    run_id = f"live-{uuid.uuid4().hex[:8]}"
    store = StateStore.connect(servers.redis_url, run_id)
    service = ComputeService(
        bus, store, flow.EngineConfig(), allowed_lateness_ns=10**9, max_batch_messages=1
    )
    metrics = await service.run(until_idle=True)
    saved = await store.load_engine()
    await store.close()
    assert saved is not None
    snapshot, deltas = saved
    # far fewer batches than SNAPSHOT_EVERY, yet snapshots were taken again: by weight
    assert SNAPSHOT_EVERY > metrics.batches > len(deltas) + 10
    # the deltas before the last one weigh less than the snapshot they apply to
    assert sum(map(len, deltas[:-1])) < len(snapshot)
