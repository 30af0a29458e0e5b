"""A three-node NATS cluster with R3 streams: the stream leader killed with SIGKILL mid-session
and restarted loses nothing and duplicates nothing, on the log and in ClickHouse."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import pytest_asyncio

from infra.bus import Bus
from infra.embedded import NatsCluster, nats_cluster
from infra.warehouse import Warehouse
from live.sink.config import SinkConfig
from live.sink.service import Sink
from schemas.events import OptionPrint
from schemas.subjects import DERIVED_STREAM, RAW_STREAM, raw_subject
from tests.conftest import Servers, scratch_warehouse
from tests.integration.live.session import (
    Session,
    assert_views_match_base_tables,
    build_session,
    digests,
    publish,
)
from tests.kit.events import option_print


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    nodes = nats_cluster(tmp_path / "nats", 3)
    nodes.start()
    try:
        yield nodes
    finally:
        nodes.stop()


@pytest_asyncio.fixture
async def cluster_bus(cluster: NatsCluster) -> AsyncIterator[Bus]:
    """A connection given every seed, with RAW and DERIVED replicated on all three nodes."""
    connection = await Bus.connect(cluster.url, name="cluster-test")
    await connection.ensure_streams(duplicate_window_s=120.0, replicas=3)
    yield connection
    await connection.close()


async def _kill_leader(cluster: NatsCluster, bus: Bus, stream: str) -> int:
    """SIGKILL the node that leads `stream`; its index."""
    index = cluster.node_named(await bus.stream_leader(stream))
    cluster.kill(index)
    return index


async def test_the_streams_are_replicated_on_every_node(cluster_bus: Bus) -> None:
    await cluster_bus.ensure_streams()  # as a service that names no replicas: keeps three
    for stream in (RAW_STREAM, DERIVED_STREAM):
        info = await cluster_bus.js.stream_info(stream)
        assert info.config.num_replicas == 3
        assert info.cluster is not None and info.cluster.leader
        followers = [peer.name for peer in info.cluster.replicas or []]
        assert sorted([info.cluster.leader, *followers]) == ["nats-0", "nats-1", "nats-2"]


async def test_publishes_survive_the_stream_leader_killed_without_duplicates(
    cluster: NatsCluster, cluster_bus: Bus
) -> None:
    subject = raw_subject(OptionPrint, "synthetic")
    batches = [[option_print(sequence=n, ts_recv=1_000 + n)] for n in range(300)]
    sequences: list[int] = []
    for n, batch in enumerate(batches):
        if n == 100:
            dead = cluster.nodes[await _kill_leader(cluster, cluster_bus, RAW_STREAM)].name
        if n == 200:
            cluster.restart(cluster.node_named(dead))
        sequences.extend(await cluster_bus.publish(subject, batch, run_id="live"))

    assert sequences == list(range(1, 301))  # every ack, one new sequence each, in order
    reader = await cluster_bus.reader(RAW_STREAM, start_seq=1)
    stored: list[OptionPrint] = []
    deadline = time.monotonic() + 60  # a fetch after the restart may come back empty: read on
    while len(stored) < len(batches) and time.monotonic() < deadline:
        messages = await reader.fetch(100, timeout_s=1.0)
        stored.extend(e for m in messages for e in m.events if isinstance(e, OptionPrint))
    await reader.close()
    assert stored == [e for batch in batches for e in batch]


async def test_a_repeated_publish_after_a_leader_change_is_stored_once(
    cluster: NatsCluster, cluster_bus: Bus
) -> None:
    subject = raw_subject(OptionPrint, "synthetic")
    events = [option_print(sequence=1, ts_recv=1_000)]
    first = await cluster_bus.publish(subject, events, run_id="live")
    dead = cluster.nodes[await _kill_leader(cluster, cluster_bus, RAW_STREAM)].name
    # The publisher never saw the first ack and sends the same message to the new leader.
    again = await cluster_bus.publish(subject, events, run_id="live")
    assert again == first
    assert await cluster_bus.stream_leader(RAW_STREAM) != dead
    assert await cluster_bus.last_sequence(RAW_STREAM) == first[0]


async def test_a_reader_whose_consumer_node_is_killed_reads_on_without_gaps_or_repeats(
    cluster: NatsCluster, cluster_bus: Bus
) -> None:
    subject = raw_subject(OptionPrint, "synthetic")
    published = [option_print(sequence=n, ts_recv=1_000 + n) for n in range(40)]
    for event in published[:20]:
        await cluster_bus.publish(subject, [event], run_id="live")
    reader = await cluster_bus.reader(RAW_STREAM, start_seq=1)
    read = [e for m in await reader.fetch(10, timeout_s=2.0) for e in m.events]
    (consumer,) = await cluster_bus.js.consumers_info(RAW_STREAM)
    assert consumer.cluster is not None and consumer.cluster.leader
    cluster.kill(cluster.node_named(consumer.cluster.leader))
    for event in published[20:]:
        await cluster_bus.publish(subject, [event], run_id="live")
    deadline = time.monotonic() + 60
    while len(read) < len(published) and time.monotonic() < deadline:
        try:
            read.extend(e for m in await reader.fetch(100, timeout_s=1.0) for e in m.events)
        except Exception:  # noqa: S112  (opening a consumer mid-election times out; try again)
            continue
    await reader.close()
    assert reader.reopened >= 1
    assert read == published


async def _store_on_single_node(bus: Bus, warehouse: Warehouse, session: Session) -> None:
    await publish(bus, session)
    await Sink(bus, warehouse, config=SinkConfig(batch_rows=300)).run_until_idle()


async def _until_equal(
    target: Warehouse, expected: dict[str, tuple], timeout_s: float
) -> dict[str, tuple]:
    deadline = time.monotonic() + timeout_s
    while (got := digests(target)) != expected and time.monotonic() < deadline:  # noqa: ASYNC110  (polling ClickHouse)
        await asyncio.sleep(0.2)
    return got


@pytest.mark.slow
async def test_the_stream_leader_killed_mid_session_leaves_clickhouse_exactly_once(
    cluster: NatsCluster, cluster_bus: Bus, bus: Bus, servers: Servers
) -> None:
    single = scratch_warehouse(servers)
    clustered = scratch_warehouse(servers)
    with single as single_wh, clustered as target:
        await _store_on_single_node(bus, single_wh, build_session(prints=1500, batch=20))
        expected = digests(single_wh)
        assert sum(count for count, _ in expected.values()) > 3000

        session = build_session(prints=1500, batch=20)
        sink = Sink(cluster_bus, target, config=SinkConfig(batch_rows=300, backoff_max_s=0.5))
        stop = asyncio.Event()
        running = asyncio.create_task(sink.run(stop))
        third = len(session.messages) // 3
        try:
            await publish(cluster_bus, Session(session.messages[:third]))
            dead = await _kill_leader(cluster, cluster_bus, RAW_STREAM)
            await publish(cluster_bus, Session(session.messages[third : 2 * third]))
            cluster.restart(dead)
            await publish(cluster_bus, Session(session.messages[2 * third :]))
            got = await _until_equal(target, expected, timeout_s=60)
        finally:
            stop.set()
            await asyncio.wait_for(running, timeout=30)

        assert got == expected
        for stream in (RAW_STREAM, DERIVED_STREAM):
            assert sink.metrics.streams[stream].position == await cluster_bus.last_sequence(stream)
        assert_views_match_base_tables(target)
