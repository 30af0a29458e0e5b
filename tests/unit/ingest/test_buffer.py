from ingest.buffer import IngestBuffer
from schemas.events import Gap, OpenInterest
from tests.kit.book import mbo_event, mbp10_event, rec
from tests.kit.crypto import book_update
from tests.kit.events import open_interest
from tests.kit.events import print_at as trade
from tests.kit.events import quote_at as quote


def oi(t: int) -> OpenInterest:
    return open_interest(ts_recv=t, ts_event=t, publisher_id=1, source="s", open_interest=t)


def test_a_healthy_log_gets_every_quote() -> None:
    buffer = IngestBuffer(capacity=100, source="s")
    for t in range(5):
        buffer.add(quote(t))
    assert buffer.drain() == [quote(t) for t in range(5)]


def test_while_stalled_quotes_conflate_to_the_latest_per_instrument() -> None:
    buffer = IngestBuffer(capacity=100, source="s")
    buffer.stalled = True
    for t in range(10):
        buffer.add(quote(t))
    buffer.add(quote(50, instrument_id=8))
    buffer.add(trade(60))
    assert buffer.drain() == [quote(9), quote(50, instrument_id=8), trade(60)]
    assert buffer.conflated == 9


def test_over_capacity_the_oldest_non_trade_goes_first_and_trades_survive() -> None:
    buffer = IngestBuffer(capacity=3, source="s")
    for event in (oi(1), trade(2), quote(3, 8), trade(4), quote(5, 9)):
        buffer.add(event)
    assert buffer.drain() == [trade(2), trade(4), quote(5, 9)]
    assert (buffer.dropped_other, buffer.dropped_trades, buffer.degraded) == (2, 0, False)


def test_a_trade_is_dropped_only_as_a_last_resort_and_leaves_a_gap_marker() -> None:
    buffer = IngestBuffer(capacity=2, source="s")
    for t in range(1, 6):
        buffer.add(trade(t))
    events = buffer.drain()
    assert events[1:] == [trade(4), trade(5)]
    assert events[0] == Gap(
        ts_recv=3, source="s", dropped_trades=3, first_ts_recv=1, last_ts_recv=3,
        reason="ingest buffer full while the log was unreachable",
    )  # fmt: skip
    assert buffer.degraded
    assert buffer.drain() == []  # the gap is reported once


def test_order_book_events_outlive_quotes_and_other_events_like_trades() -> None:
    mbo = mbo_event(rec("A", "B", 10.0, 1, order_id=1), ts_recv=2)
    mbp = mbp10_event("A", [(10.0, 1, 1)], [], ts_recv=4)
    depth = book_update(ts_recv=6)
    buffer = IngestBuffer(capacity=3, source="s")
    for event in (quote(1), mbo, oi(3), mbp, quote(5, 9), depth):
        buffer.add(event)
    assert buffer.drain() == [mbo, mbp, depth]
    assert (buffer.dropped_other, buffer.dropped_book_events, buffer.degraded) == (3, 0, False)


def test_a_lost_order_book_event_is_counted_in_the_gap_that_opens_the_next_drain() -> None:
    books = [mbo_event(rec("A", "B", 10.0, 1, order_id=t), ts_recv=t) for t in (1, 3, 5)]
    buffer = IngestBuffer(capacity=2, source="s")
    for event in (books[0], trade(2), books[1], trade(4), books[2]):
        buffer.add(event)
    events = buffer.drain()
    assert events[1:] == [trade(4), books[2]]
    assert events[0] == Gap(
        ts_recv=3, source="s", dropped_trades=1, dropped_book_events=2, first_ts_recv=1,
        last_ts_recv=3, reason="ingest buffer full while the log was unreachable",
    )  # fmt: skip
    assert (buffer.dropped_trades, buffer.dropped_book_events, buffer.degraded) == (1, 2, True)
    assert buffer.drain() == []  # the gap is reported once
