"""The sink stores Databento order-book venue events (MBO, MBP-10) once each, records typed."""

from __future__ import annotations

from typing import Any

import msgspec

from infra.bus import Bus
from infra.warehouse import Warehouse, tables_for
from live.sink.service import Sink
from schemas.book import BookLevel, MboEvent, MboRecord, Mbp10Event, Mbp10Record
from schemas.events import Event, Gap
from schemas.subjects import RAW_STREAM, raw_subject
from synth.book import generate_book_session
from tests.kit.events import gap

_EVENT_COLUMNS = (
    "toUnixTimestamp64Nano(ts_recv), toUnixTimestamp64Nano(ts_event), publisher_id, "
    "instrument_id, source, symbol, venue, sequence"
)
_MBO_RECORDS = (
    "arrayMap(r -> (toUnixTimestamp64Nano(r.ts_event), r.sequence, r.action, r.side, r.price, "
    "r.size, r.order_id, r.flags), records)"
)
_MBP10_RECORDS = (
    "arrayMap(r -> (toUnixTimestamp64Nano(r.ts_event), r.sequence, r.action, r.side, r.depth, "
    "r.price, r.size, r.flags, r.bids, r.asks), records)"
)


def _event_fields(row: tuple[Any, ...]) -> dict[str, Any]:
    names = ("ts_recv", "ts_event", "publisher_id", "instrument_id", "source", "symbol", "venue")
    return {**dict(zip(names, row[:7], strict=True)), "sequence": row[7]}


def stored_mbo(warehouse: Warehouse) -> list[MboEvent]:
    rows = warehouse.rows(f"SELECT {_EVENT_COLUMNS}, {_MBO_RECORDS} FROM mbo_events")  # noqa: S608  (constant SQL)
    return [MboEvent(**_event_fields(row), records=[MboRecord(*r) for r in row[8]]) for row in rows]


def stored_mbp10(warehouse: Warehouse) -> list[Mbp10Event]:
    rows = warehouse.rows(f"SELECT {_EVENT_COLUMNS}, {_MBP10_RECORDS} FROM mbp10_events")  # noqa: S608  (constant SQL)
    return [
        Mbp10Event(
            **_event_fields(row),
            records=[
                Mbp10Record(*r[:8], [BookLevel(**b) for b in r[8]], [BookLevel(**a) for a in r[9]])
                for r in row[8]
            ],
        )
        for row in rows
    ]


def as_multiset(events: list[Any]) -> list[bytes]:
    return sorted(msgspec.msgpack.encode(e) for e in events)


async def publish_in_messages(bus: Bus, events: list[Event], per_message: int) -> list[int]:
    seqs = []
    for start in range(0, len(events), per_message):
        chunk = events[start : start + per_message]
        seqs += await bus.publish(raw_subject(type(chunk[0]), "databento"), chunk, run_id="live")
    return seqs


async def test_mbo_and_mbp10_events_are_stored_exactly_once_with_every_record(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    session = generate_book_session(41, 300)
    mbo, mbp10 = session.mbo, session.mbp10
    await publish_in_messages(bus, list(mbo), per_message=40)
    await publish_in_messages(bus, list(mbp10), per_message=40)

    metrics = await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()
    again = await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()

    assert metrics.streams[RAW_STREAM].quarantined == 0
    assert fresh_warehouse.scalar("SELECT count() FROM mbo_events") == len(mbo)
    assert fresh_warehouse.scalar("SELECT count() FROM mbp10_events") == len(mbp10)
    assert as_multiset(stored_mbo(fresh_warehouse)) == as_multiset(mbo)
    assert as_multiset(stored_mbp10(fresh_warehouse)) == as_multiset(mbp10)
    assert fresh_warehouse.scalar("SELECT count() FROM quarantine") == 0
    assert again.streams[RAW_STREAM].messages == 0


async def test_a_sink_that_died_after_storing_some_book_messages_stores_the_rest_once(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    mbo = list(generate_book_session(42, 200).mbo)
    seqs = await publish_in_messages(bus, mbo, per_message=25)
    # What a crash leaves: the first three messages' rows inserted, no position recorded.
    for n, seq in enumerate(seqs[:3]):
        chunk = mbo[n * 25 : (n + 1) * 25]
        table = tables_for(chunk, run_id="live", log_seqs=[seq] * len(chunk))["mbo_events"]
        fresh_warehouse.insert_arrow("mbo_events", table)

    metrics = await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()

    assert metrics.streams[RAW_STREAM].skipped_rows == 75
    assert fresh_warehouse.scalar("SELECT count() FROM mbo_events") == len(mbo)
    assert as_multiset(stored_mbo(fresh_warehouse)) == as_multiset(mbo)


async def test_a_gap_stores_the_order_book_events_the_buffer_lost(
    bus: Bus, fresh_warehouse: Warehouse
) -> None:
    lost = gap(dropped_trades=1, dropped_book_events=4)
    await bus.publish(raw_subject(Gap, "databento"), [lost], run_id="live")

    await Sink(bus, fresh_warehouse, streams=[RAW_STREAM]).run_until_idle()

    assert fresh_warehouse.rows("SELECT dropped_trades, dropped_book_events FROM gaps") == [(1, 4)]
