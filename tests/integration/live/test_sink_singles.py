"""A compute partition restarted between its packets and its hits still gets its flagged
singles stored, once, however many messages the other producers published meanwhile."""

from __future__ import annotations

import pytest

from infra.bus import Bus
from infra.warehouse import Warehouse
from live.sink.service import Sink
from live.sink.singles import HOLD_MESSAGES
from schemas.events import ClassifierHit, FlowPacket, PrintInference
from schemas.subjects import DERIVED_STREAM, derived_subject
from tests.kit.derived import classifier_hit, flow_packet, print_inference

P0, P1 = "compute/p0of2", "compute/p1of2"


def single(packet_id: str) -> FlowPacket:
    return flow_packet(packet_id=packet_id, kind="single", n_prints=1)


async def store(bus: Bus, warehouse: Warehouse) -> int:
    """Run a sink over DERIVED until idle; the messages it stored."""
    metrics = await Sink(bus, warehouse, streams=[DERIVED_STREAM]).run_until_idle()
    return metrics.streams[DERIVED_STREAM].messages


@pytest.mark.parametrize("restart", [False, True], ids=["one-sink", "sink-restarted-between"])
async def test_a_single_flagged_after_other_producers_messages_is_stored_once(
    bus: Bus, fresh_warehouse: Warehouse, restart: bool
) -> None:
    packets = derived_subject(FlowPacket)
    batch = [single("lone"), single("flagged")]
    [packets_seq] = await bus.publish(packets, batch, run_id="live", producer=P0)
    # partition 0 is down: the other partition and a producer naming none publish on
    others = 2 * HOLD_MESSAGES
    for i in range(others):
        await bus.publish(packets, [single(f"p1-{i}")], run_id="live", producer=P1)
        inference = print_inference(sequence=i)
        await bus.publish(derived_subject(PrintInference), [inference], run_id="live")
    if restart:
        assert await store(bus, fresh_warehouse) == 1 + 2 * others
        assert fresh_warehouse.scalar("SELECT count() FROM flow_packets") == 0
    # partition 0 back: its batch again (the packets' message is the one stored) and its hit
    assert await bus.publish(packets, batch, run_id="live", producer=P0) == [packets_seq]
    hit = classifier_hit(packet_id="flagged", rule="spike")
    [hit_seq] = await bus.publish(derived_subject(ClassifierHit), [hit], run_id="live", producer=P0)
    assert hit_seq == packets_seq + 2 * others + 1

    assert await store(bus, fresh_warehouse) == (1 if restart else 2 + 2 * others)

    assert fresh_warehouse.rows("SELECT packet_id, log_seq FROM flow_packets") == [
        ("flagged", hit_seq)
    ]
    assert fresh_warehouse.rows("SELECT packet_id, log_seq FROM packet_prints") == [
        ("flagged", hit_seq)
    ]
    assert fresh_warehouse.scalar("SELECT count() FROM classifier_hits") == 1
    # another restart re-reads the held window and stores nothing again
    assert await store(bus, fresh_warehouse) == 0
    assert fresh_warehouse.scalar("SELECT count() FROM flow_packets") == 1
