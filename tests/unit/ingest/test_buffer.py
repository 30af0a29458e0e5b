from ingest.buffer import IngestBuffer
from schemas.events import Gap, OpenInterest
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
