import msgspec
import pytest

from schemas.codec import CodecError, decode_batch, encode_batch
from schemas.crypto import CRYPTO_RAW_EVENTS, CryptoQuote, CryptoTrade
from schemas.events import event_tag
from schemas.ordering import admit, canonical_sort, schema_rank
from schemas.subjects import md_subject, raw_subject
from tests.kit.crypto import (
    book_update,
    crypto_quote,
    crypto_trade,
    mark_price,
    one_of_each_crypto_event,
    provider_events,
)


def test_every_crypto_event_round_trips_through_the_codec() -> None:
    events = one_of_each_crypto_event()
    assert {type(e) for e in events} == set(CRYPTO_RAW_EVENTS)
    assert decode_batch(encode_batch(events)) == events


def test_crypto_events_have_raw_subjects_and_ranks() -> None:
    assert raw_subject(CryptoTrade, "binance") == "flow.raw.crypto_trade.binance"
    for event in one_of_each_crypto_event():
        assert raw_subject(type(event), "bybit").endswith(f".{event_tag(type(event))}.bybit")
        schema_rank(event)


def test_a_quote_sorts_before_a_trade_at_the_same_receive_time() -> None:
    trade, quote = crypto_trade(), crypto_quote()
    mark = mark_price(ts_recv=trade.ts_recv)
    assert canonical_sort([trade, quote, mark]) == [mark, quote, trade]


def test_a_republished_trade_is_not_admitted_twice() -> None:
    marks: dict[str, list[int | str]] = {}
    assert admit(marks, crypto_trade())
    assert not admit(marks, crypto_trade())
    assert admit(marks, crypto_trade(ts_recv=crypto_trade().ts_recv + 1, sequence=101))


def test_an_unknown_side_is_refused_at_the_boundary() -> None:
    body = msgspec.msgpack.encode([msgspec.to_builtins(crypto_trade()) | {"side": "sideways"}])
    with pytest.raises(CodecError, match="side"):
        decode_batch(body)


def test_a_quote_needs_both_sides() -> None:
    fields = msgspec.to_builtins(crypto_quote())
    del fields["ask_px"]
    with pytest.raises(CodecError, match="ask_px"):
        decode_batch(msgspec.msgpack.encode([fields]))
    assert isinstance(decode_batch(encode_batch([crypto_quote()]))[0], CryptoQuote)


def test_market_data_schema_subjects_name_type_and_symbol() -> None:
    heartbeat, gap, *_ = provider_events()
    assert md_subject(crypto_trade()) == "md.events.trade.BTC-USDT"
    assert md_subject(crypto_quote(symbol="BTC-USDT-PERP")) == "md.events.quote.BTC-USDT-PERP"
    assert md_subject(book_update(symbol="A.B")) == "md.events.book.A_B"  # no subject tokens
    assert md_subject(heartbeat) == "md.events.heartbeat.__system__"
    assert md_subject(gap) is None and md_subject(mark_price()) is None
