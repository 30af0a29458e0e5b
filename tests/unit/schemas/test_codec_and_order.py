import msgspec
import pytest

from schemas.codec import CodecError, decode_batch, encode_batch
from schemas.events import (
    Alert,
    BaselineValue,
    EquityPrint,
    FlowPacket,
    MemberPrint,
    OptionContract,
    OptionPrint,
    OptionQuote,
    PacketLeg,
    Quarantined,
)
from schemas.occ import format_occ, parse_occ
from schemas.ordering import canonical_key, canonical_sort
from schemas.subjects import derived_subject, raw_subject

SYMBOL = "AAPL  240119C00190000"


def option_print(**overrides: object) -> OptionPrint:
    fields: dict[str, object] = dict(
        ts_recv=1_000, ts_event=900, publisher_id=20, instrument_id=7, sequence=1,
        source="databento", symbol=SYMBOL, underlying="AAPL", price=1_500_000_000, size=10,
    )  # fmt: skip
    fields.update(overrides)
    return OptionPrint(**fields)  # type: ignore[arg-type]


def member() -> MemberPrint:
    return MemberPrint(
        instrument_id=7, publisher_id=20, ts_event=900, sequence=1, price=1_500_000_000,
        size=10, side="buy", bucket="A", nbbo_bid_px=1_400_000_000, nbbo_ask_px=1_500_000_000,
    )  # fmt: skip


def test_batch_of_mixed_events_round_trips() -> None:
    leg = PacketLeg(
        instrument_id=7, symbol=SYMBOL, right="C", strike_price=190 * 10**9,
        expiration_date=20240119, side="buy", size=10, premium_cents=1_500_000, n_prints=1,
        venues=[20], vwap_px=1_500_000_000, ratio=1, moneyness=None, dte=3, day_volume=10,
        open_interest=None,
    )  # fmt: skip
    packet = FlowPacket(
        packet_id="p", run_id="live", kind="sweep", structure="", underlying="AAPL",
        ts_start=900, ts_end=900, ts_recv=1_000, side="buy", premium_cents=1_500_000, size=10,
        n_prints=1, venues=[20], price_levels=1, legs=[leg], bucket_counts={"A": 1},
        aggressor_ratio=1.0, nbbo_coverage=1.0, spot_px=None, members=[member()],
    )  # fmt: skip
    alert = Alert(
        alert_id="a", run_id="live", packet_id="p", ts_event=900, ts_recv=1_000,
        underlying="AAPL", severity=3, score=0.5, rules=["sweep"], hit_ids=["h"], title="t",
        thresholds={"min_premium": 40000.0},
        baselines=[BaselineValue(key="AAPL", metric="premium", value=1, n=12, mean=0.5,
                                 std=0.1, z=5.0)],
        members=[member()],
    )  # fmt: skip
    events = [
        option_print(),
        packet,
        alert,
        Quarantined(ts_recv=1, source="x", reason="r", payload=b"\x00\xff"),
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
    quote = OptionQuote(
        ts_recv=1_000, ts_event=950, publisher_id=30, instrument_id=7, sequence=5,
        source="databento", symbol=SYMBOL, underlying="AAPL", bid_px=1, ask_px=2,
        bid_sz=1, ask_sz=1,
    )  # fmt: skip
    definition = OptionContract(
        ts_recv=1_000, ts_event=0, publisher_id=99, instrument_id=7, source="databento",
        symbol=SYMBOL, underlying="AAPL", right="C", strike_price=190 * 10**9, expiration=None,
    )  # fmt: skip
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
    eq = EquityPrint(
        ts_recv=1_000, ts_event=1, publisher_id=1, instrument_id=1, sequence=1, source="s",
        symbol="AAPL", venue="XNAS", off_exchange=False, price=1, size=1,
    )  # fmt: skip
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
    quote = OptionQuote(
        ts_recv=5, ts_event=5, publisher_id=1, instrument_id=7, sequence=1, source="databento",
        symbol=SYMBOL, underlying="AAPL", bid_px=1, ask_px=2, bid_sz=1, ask_sz=1,
    )  # fmt: skip
    assert admit(marks, quote)  # a quote message may trail the prints of the same instant
    assert admit(marks, Quarantined(ts_recv=1, source="databento", reason="r"))
    assert admit(marks, Quarantined(ts_recv=1, source="databento", reason="r"))


def test_distinct_records_sharing_time_venue_instrument_and_sequence_are_both_admitted() -> None:
    from schemas.ordering import HighWater, admit

    marks: HighWater = {}
    first, second = canonical_sort([option_print(price=1, sequence=0),
                                    option_print(price=2, sequence=0)])  # fmt: skip
    assert admit(marks, first) and admit(marks, second)
    assert not admit(marks, first) and not admit(marks, second)
