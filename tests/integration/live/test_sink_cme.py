"""The sink stores CME events once per partition, however a crash left them."""

from __future__ import annotations

from pathlib import Path

import msgspec

from infra.bus import Bus
from infra.warehouse import Warehouse, tables_for
from ingest.databento import RecordNormaliser, iter_file_events
from live.sink.positions import split_partitions, table_layouts
from live.sink.service import Sink
from schemas.cme import CME_RAW_EVENTS, CmeQuote
from schemas.events import Event
from schemas.subjects import RAW_STREAM, raw_subject
from tests.integration.live.session import digests

DAY_NS = 86_400 * 10**9


def glbx_events(shared_data: Path) -> list[Event]:
    folder = shared_data / "GLBX.MDP3"
    schemas = ("definition", "trades", "mbp-1", "bbo-1s", "statistics")
    paths = [folder / f"test_data.{s}.dbn.zst" for s in schemas]
    return list(iter_file_events(paths, normaliser=RecordNormaliser()))


def as_multiset(events: list[Event]) -> list[bytes]:
    return sorted(msgspec.msgpack.encode(e) for e in events)


async def publish_by_type(bus: Bus, events: list[Event]) -> None:
    for event_type in CME_RAW_EVENTS:
        group = [e for e in events if type(e) is event_type]
        await bus.publish(raw_subject(event_type, "databento"), group, run_id="live")


async def test_cme_events_stored_across_sink_restarts_are_each_stored_once(
    bus: Bus, fresh_warehouse: Warehouse, shared_data: Path
) -> None:
    events = glbx_events(shared_data)
    half = len(events) // 2
    await publish_by_type(bus, events[:half])
    await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()
    await publish_by_type(bus, events[half:])
    await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()
    again = await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()

    for event_type in CME_RAW_EVENTS:
        stored = fresh_warehouse.read_events(event_type, run_id="live")
        published = [e for e in events if type(e) is event_type]
        assert as_multiset(stored) == as_multiset(published) and published
    assert again.streams[RAW_STREAM].messages == 0  # resumed after the stored position


async def test_a_cme_message_across_midnight_half_stored_by_a_crash_is_completed_once(
    bus: Bus, fresh_warehouse: Warehouse, reference: Warehouse, shared_data: Path
) -> None:
    quote = next(e for e in glbx_events(shared_data) if isinstance(e, CmeQuote))
    midnight = (quote.ts_recv // DAY_NS + 1) * DAY_NS
    quotes = [
        msgspec.structs.replace(quote, ts_recv=midnight - 1, sequence=1),
        msgspec.structs.replace(quote, ts_recv=midnight + 1, sequence=2),
    ]
    [seq] = await bus.publish(raw_subject(CmeQuote, "databento"), quotes, run_id="live")
    reference.insert_events(quotes, run_id="live", log_seq=seq)
    layout = table_layouts(fresh_warehouse, ["cme_quotes"])["cme_quotes"]
    data = tables_for(quotes, run_id="live", log_seqs=[seq, seq])["cme_quotes"]
    before_midnight = split_partitions(data, layout)[0]
    assert before_midnight.num_rows == 1
    fresh_warehouse.insert_arrow("cme_quotes", before_midnight)  # what the crash left

    await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()

    assert digests(fresh_warehouse, ("cme_quotes",)) == digests(reference, ("cme_quotes",))
    assert fresh_warehouse.scalar("SELECT count() FROM cme_quotes") == 2
