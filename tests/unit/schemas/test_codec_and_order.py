import msgspec
import pytest

from schemas.codec import CodecError, decode_batch, encode_batch
from schemas.events import FlowPacket, OptionPrint
from schemas.occ import format_occ, parse_occ
from schemas.ordering import canonical_key, canonical_sort
from schemas.subjects import derived_subject, raw_subject
from tests.kit.derived import alert, baseline, flow_packet
from tests.kit.events import (
    SYMBOL,
    equity_print,
    option_contract,
    option_print,
    option_quote,
    quarantined,
)


def test_batch_of_mixed_events_round_trips() -> None:
    packet = flow_packet(packet_id="p", spot_px=None)
    an_alert = alert(
        alert_id="a", packet_id="p", severity=3, score=0.5, hit_ids=["h"], title="t",
        thresholds={"min_premium": 40000.0},
        baselines=[baseline(value=1, n=12, mean=0.5, std=0.1, z=5.0)],
    )  # fmt: skip
    events = [
        option_print(),
        packet,
        an_alert,
        quarantined(ts_recv=1, source="x", reason="r", payload=b"\x00\xff"),
    ]
    assert decode_batch(encode_batch(events)) == events


def test_unknown_fields_are_rejected_at_the_boundary() -> None:
    body = msgspec.msgpack.encode([{"type": "heartbeat", "ts_recv": 1, "source": "x", "oops": 1}])
    with pytest.raises(CodecError, match="oops"):
        decode_batch(body)


def test_garbage_is_a_codec_error_not_a_crash() -> None:
    with pytest.raises(CodecError):
        decode_batch(b"\xc1\xff not msgpack")


def test_every_event_carries_a_schema_version() -> None:
    decoded = msgspec.msgpack.decode(encode_batch([option_print()]))
    assert decoded[0]["schema_version"] == 1


def test_canonical_order_is_receive_time_then_rank_then_ids() -> None:
    quote = option_quote(
        ts_recv=1_000, ts_event=950, publisher_id=30, sequence=5, bid_px=1, ask_px=2, bid_sz=1,
        ask_sz=1,
    )  # fmt: skip
    definition = option_contract(ts_event=0, publisher_id=99, expiration=None)
    early = option_print(ts_recv=999, publisher_id=99)
    a = option_print(publisher_id=20, sequence=2)
    b = option_print(publisher_id=20, sequence=1)
    events = [a, b, quote, early, definition]
    assert canonical_sort(events) == [early, definition, quote, b, a]


def test_exact_ties_are_broken_by_content_not_arrival() -> None:
    x = option_print(price=1)
    y = option_print(price=2)
    assert canonical_sort([x, y]) == canonical_sort([y, x])
    assert canonical_key(x) != canonical_key(y)


def test_equity_and_option_prints_share_a_rank() -> None:
    eq = equity_print(ts_event=1, publisher_id=1, source="s", price=1, size=1)
    assert canonical_key(eq)[1] == canonical_key(option_print())[1]


def test_subjects() -> None:
    assert raw_subject(OptionPrint, "databento") == "flow.raw.option_print.databento"
    assert derived_subject(FlowPacket) == "flow.drv.flow_packet"
    with pytest.raises(ValueError, match="source"):
        raw_subject(OptionPrint, "Data.Bento")
    with pytest.raises(ValueError, match="not a raw event"):
        raw_subject(FlowPacket, "x")


def test_occ_symbols_round_trip() -> None:
    parsed = parse_occ(SYMBOL)
    assert (parsed.root, parsed.expiration_date, parsed.right) == ("AAPL", 20240119, "C")
    assert parsed.strike_price == 190 * 10**9
    assert format_occ("AAPL", 20240119, "C", 190 * 10**9) == SYMBOL
    assert parse_occ("SPXW  251219P05500500").strike_price == 5_500_500_000_000
    with pytest.raises(ValueError, match="OCC symbol"):
        parse_occ("AAPL240119C190")


def test_republished_events_at_or_below_the_high_water_mark_are_not_admitted() -> None:
    from schemas.ordering import HighWater, admit

    marks: HighWater = {}
    session = [option_print(ts_recv=t, sequence=t) for t in range(1, 6)]
    assert [admit(marks, e) for e in session] == [True] * 5
    assert [admit(marks, e) for e in session] == [False] * 5  # the same session again
    assert admit(marks, option_print(ts_recv=6, sequence=6))


def test_high_water_marks_are_kept_per_source_and_type() -> None:
    from schemas.ordering import HighWater, admit

    marks: HighWater = {}
    assert admit(marks, option_print(ts_recv=10))
    assert admit(marks, option_print(ts_recv=5, source="alpaca"))
    quote = option_quote(
        ts_recv=5, ts_event=5, publisher_id=1, bid_px=1, ask_px=2, bid_sz=1, ask_sz=1
    )
    assert admit(marks, quote)  # a quote message may trail the prints of the same instant
    assert admit(marks, quarantined(ts_recv=1, reason="r"))
    assert admit(marks, quarantined(ts_recv=1, reason="r"))


def test_distinct_records_sharing_time_venue_instrument_and_sequence_are_both_admitted() -> None:
    from schemas.ordering import HighWater, admit

    marks: HighWater = {}
    first, second = canonical_sort([option_print(price=1, sequence=0),
                                    option_print(price=2, sequence=0)])  # fmt: skip
    assert admit(marks, first) and admit(marks, second)
    assert not admit(marks, first) and not admit(marks, second)
