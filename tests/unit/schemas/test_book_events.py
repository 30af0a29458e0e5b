"""Book events cross the log whole: codec round trip, subject, canonical rank."""

from __future__ import annotations

from schemas.book import (
    F_LAST,
    F_SNAPSHOT,
    BookLevel,
    MboEvent,
    MboRecord,
    Mbp10Event,
    Mbp10Record,
)
from schemas.codec import decode_batch, encode_batch
from schemas.ordering import canonical_sort
from schemas.subjects import raw_subject


def mbo_event(ts_recv: int, records: list[MboRecord]) -> MboEvent:
    return MboEvent(
        ts_recv=ts_recv, ts_event=records[-1].ts_event, publisher_id=1, instrument_id=5482,
        source="databento", symbol="ESH1", venue="GLBX", sequence=records[-1].sequence,
        records=records,
    )  # fmt: skip


def test_an_mbo_event_keeps_its_records_in_feed_order_through_the_codec() -> None:
    # A trade, its fill and the cancel of the filled order share time and sequence; as one
    # event their order cannot be changed by the canonical tie-break.
    records = [
        MboRecord(10, 7, "T", "B", 100, 2, 0, 0),
        MboRecord(10, 7, "F", "A", 100, 2, 55, 0),
        MboRecord(10, 7, "C", "A", 100, 2, 55, F_LAST),
    ]
    event = mbo_event(20, records)
    (decoded,) = decode_batch(encode_batch([event]))
    assert decoded == event
    assert [r.action for r in decoded.records] == ["T", "F", "C"]


def test_an_undefined_price_travels_as_none() -> None:
    clear = MboRecord(10, 0, "R", "N", None, 0, 0, F_SNAPSHOT)
    (decoded,) = decode_batch(encode_batch([mbo_event(20, [clear])]))
    assert decoded.records[0].price is None


def test_mbp10_events_round_trip_with_their_levels() -> None:
    record = Mbp10Record(
        10, 7, "A", "B", 0, 100, 1, F_LAST, [BookLevel(100, 3, 2)], [BookLevel(101, 1, 1)]
    )
    event = Mbp10Event(
        ts_recv=20, ts_event=10, publisher_id=1, instrument_id=5482, source="databento",
        symbol="ESH1", venue="GLBX", sequence=7, records=[record],
    )  # fmt: skip
    assert decode_batch(encode_batch([event])) == [event]
    assert raw_subject(Mbp10Event, "databento") == "flow.raw.mbp10_event.databento"
    assert raw_subject(MboEvent, "databento") == "flow.raw.mbo_event.databento"


def test_book_events_sort_by_receive_time_first() -> None:
    late = mbo_event(30, [MboRecord(5, 1, "A", "B", 100, 1, 1, F_LAST)])
    early = mbo_event(20, [MboRecord(9, 2, "A", "A", 101, 1, 2, F_LAST)])
    assert canonical_sort([late, early]) == [early, late]


def test_events_of_one_packet_keep_their_order_by_event_time() -> None:
    first = mbo_event(20, [MboRecord(10, 7, "T", "B", 100, 2, 0, F_LAST)])
    second = mbo_event(20, [MboRecord(11, 7, "A", "A", 101, 1, 3, F_LAST)])
    assert (first.ts_recv, first.sequence) == (second.ts_recv, second.sequence)
    assert canonical_sort([second, first]) == [first, second]
