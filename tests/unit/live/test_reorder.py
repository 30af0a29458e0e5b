import random

from live.reorder import ReorderBuffer
from schemas.events import Event
from schemas.ordering import canonical_sort
from tests.kit.events import print_at as trade
from tests.kit.events import quote_at as quote

MS = 1_000_000


def feed(buffer: ReorderBuffer, events: list[Event]) -> list[Event]:
    out: list[Event] = []
    for event in events:
        out.extend(buffer.push(event))
    return out


def test_events_shuffled_within_the_lateness_come_out_in_canonical_order() -> None:
    session: list[Event] = [trade(t * MS) if t % 2 else quote(t * MS) for t in range(1, 400)]
    arrival = list(session)
    rng = random.Random(7)
    for i in range(0, len(arrival) - 5, 5):  # local shuffles of at most 5 ms
        block = arrival[i : i + 5]
        rng.shuffle(block)
        arrival[i : i + 5] = block
    buffer = ReorderBuffer(allowed_lateness_ns=10 * MS)
    released = feed(buffer, arrival) + buffer.flush()
    assert released == canonical_sort(session)
    assert buffer.late == 0


def test_an_event_behind_the_watermark_is_released_at_once_as_late() -> None:
    buffer = ReorderBuffer(allowed_lateness_ns=5 * MS)
    assert feed(buffer, [trade(1 * MS), trade(20 * MS)]) == [trade(1 * MS)]
    assert buffer.push(trade(3 * MS)) == [trade(3 * MS)]  # watermark is 15 ms
    assert buffer.late == 1
    assert buffer.flush() == [trade(20 * MS)]


def test_a_restored_buffer_continues_exactly_like_the_original() -> None:
    events: list[Event] = [trade(t * MS) for t in (5, 1, 9, 3, 14, 12, 30, 22, 41)]
    original = ReorderBuffer(allowed_lateness_ns=6 * MS)
    head = feed(original, events[:5])
    restored = ReorderBuffer.restore(6 * MS, original.snapshot())
    tail_original = feed(original, events[5:]) + original.flush()
    tail_restored = feed(restored, events[5:]) + restored.flush()
    assert tail_restored == tail_original
    assert head + tail_original == [trade(t * MS) for t in (1, 3, 5, 9, 12, 14, 22, 30, 41)]
