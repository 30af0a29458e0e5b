from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.marketdata.backpressure import BackpressureQueue
from schemas.crypto import CryptoQuote, CryptoTrade, ProviderGap, ProviderHeartbeat
from schemas.events import Event
from tests.kit.crypto import book_update, crypto_quote, crypto_trade

_clock = iter(range(1, 10**9))


def trade() -> CryptoTrade:
    n = next(_clock)
    return crypto_trade(ts_recv=n, sequence=n, trade_id=str(n))


def quote(symbol: str) -> CryptoQuote:
    return crypto_quote(ts_recv=next(_clock), venue_symbol=symbol)


def beat() -> ProviderHeartbeat:
    return ProviderHeartbeat(ts_recv=next(_clock), source="binance", synthetic=True, silence_ns=1)


def put(queue: BackpressureQueue, events: list[Event]) -> None:
    for event in events:
        queue.put(event)


def test_a_stalled_publisher_drives_the_queue_through_each_threshold_by_the_policy() -> None:
    queue = BackpressureQueue(100)
    put(queue, [trade() for _ in range(70)] + [beat() for _ in range(5)])
    put(queue, [quote("A") for _ in range(5)])
    assert (len(queue), queue.state) == (80, "shedding_heartbeats")
    queue.put(beat())  # at 80 %: dropped
    assert queue.dropped == {"provider_heartbeat": 1} and len(queue) == 80
    put(queue, [quote("B") for _ in range(10)])  # below 90 % each: all kept
    assert (len(queue), queue.state) == (90, "conflating")
    latest_a = quote("A")
    queue.put(latest_a)  # at 90 %: replaces the pending A quote
    assert (len(queue), queue.conflated) == (90, 1)
    queue.put(quote("C"))  # nothing pending for C: kept
    put(queue, [trade() for _ in range(9)])
    assert (len(queue), queue.state) == (100, "dropping")
    put(queue, [trade() for _ in range(5)])  # full: the 5 pending heartbeats go first
    assert queue.dropped == {"provider_heartbeat": 6, "crypto_quote": 1}
    queue.put(beat())  # worth less than everything pending: dropped itself
    put(queue, [trade() for _ in range(16)])  # then the 16 pending quotes, oldest first
    assert queue.dropped == {"provider_heartbeat": 7, "crypto_quote": 17}
    assert not any(isinstance(e, CryptoQuote) for e in queue._events.values())
    put(queue, [trade() for _ in range(3)])  # only trades left: the oldest trades go
    assert queue.dropped == {"provider_heartbeat": 7, "crypto_quote": 17, "crypto_trade": 3}
    assert queue.degraded

    taken = queue.take(1000)
    gap = taken[0]
    assert isinstance(gap, ProviderGap) and gap.reason == "backpressure"
    assert gap.dropped == {"crypto_quote": 17, "crypto_trade": 3, "provider_heartbeat": 7}
    assert sum(isinstance(e, ProviderGap) for e in taken) == 1
    trades = [e for e in taken if isinstance(e, CryptoTrade)]
    assert len(trades) == 100 and len(taken) == 101
    assert [t.sequence for t in trades] == sorted(t.sequence for t in trades)
    assert queue.offered == len(taken) - 1 + sum(queue.dropped.values())
    assert queue.take(10) == [] and queue.state == "ok"


def test_below_the_thresholds_nothing_is_dropped_or_conflated() -> None:
    queue = BackpressureQueue(100)
    events: list[Event] = [quote("A") for _ in range(40)] + [beat() for _ in range(39)]
    put(queue, events)
    assert queue.take(1000) == events
    assert queue.dropped == {} and not queue.degraded


def test_conflation_keeps_the_latest_quote_per_symbol_at_the_back() -> None:
    queue = BackpressureQueue(10)
    put(queue, [trade() for _ in range(8)] + [quote("A")])
    newer = quote("A")
    queue.put(newer)  # 9 pending: 90 %
    taken = queue.take(100)
    assert isinstance(taken[0], ProviderGap) and taken[0].dropped == {"crypto_quote": 1}
    assert taken[-1] is newer and sum(isinstance(e, CryptoQuote) for e in taken) == 1


def test_a_book_update_goes_before_a_trade() -> None:
    queue = BackpressureQueue(10)
    put(queue, [book_update(ts_recv=1)] + [trade() for _ in range(9)])
    queue.put(trade())
    assert queue.dropped == {"book_update": 1}


@pytest.mark.parametrize("capacity", [5, 0])
def test_a_tiny_capacity_is_refused(capacity: int) -> None:
    with pytest.raises(ValueError, match="capacity"):
        BackpressureQueue(capacity)


kinds = st.sampled_from(["trade", "quoteA", "quoteB", "beat", "book", "take"])


@settings(max_examples=60, deadline=None)
@given(st.lists(kinds, max_size=400))
def test_every_event_put_is_taken_once_or_counted_in_a_gap(script: list[str]) -> None:
    queue = BackpressureQueue(20)
    out: list[Event] = []
    makers = {"trade": trade, "quoteA": lambda: quote("A"), "quoteB": lambda: quote("B"),
              "beat": beat, "book": lambda: book_update(ts_recv=next(_clock))}  # fmt: skip
    for step in script:
        if step == "take":
            out.extend(queue.take(7))
        else:
            queue.put(makers[step]())
        assert len(queue) <= 20
    out.extend(queue.take(10**6))
    gaps = [e for e in out if isinstance(e, ProviderGap)]
    reported: Counter[str] = Counter()
    for gap in gaps:
        reported.update(gap.dropped)
    assert reported == queue.dropped
    assert queue.offered == len(out) - len(gaps) + sum(queue.dropped.values())
    if not queue.dropped.get("crypto_trade"):
        assert sum(isinstance(e, CryptoTrade) for e in out) == script.count("trade")


def test_a_queue_that_never_empties_keeps_no_trace_of_what_it_handed_over() -> None:
    queue = BackpressureQueue(1000)
    for _ in range(200):
        put(queue, [trade(), quote("A"), beat()])
        queue.take(2)
    assert len(queue) == 200 and not queue.dropped
    assert sum(len(slots) for slots in queue._by_kind) == len(queue)
