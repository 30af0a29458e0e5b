"""A source whose options flow is published in partitions still shows its market data."""

from __future__ import annotations

from infra.bus import Bus
from ops.source_activity import SourceActivity
from schemas.events import Heartbeat, OptionPrint
from schemas.subjects import BROADCAST_PARTITION, partitioned_raw_subject
from tests.conftest import Servers
from tests.kit.events import heartbeat, option_print


async def test_partitioned_prints_count_as_market_data_and_heartbeats_do_not(
    bus: Bus, servers: Servers
) -> None:
    activity = SourceActivity(servers.nats_url)
    try:
        beats = partitioned_raw_subject(Heartbeat, "synthetic", BROADCAST_PARTITION)
        await bus.publish(beats, [heartbeat(source="synthetic")], run_id="live")
        assert await activity.last_data(["synthetic"]) == {"synthetic": None}
        prints = partitioned_raw_subject(OptionPrint, "synthetic", "p1")
        await bus.publish(prints, [option_print(source="synthetic")], run_id="live")
        last = await activity.last_data(["synthetic", "databento"])
    finally:
        await activity.close()
    assert last is not None and last["synthetic"] is not None and last["databento"] is None
