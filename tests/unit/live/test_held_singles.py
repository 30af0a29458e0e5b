"""The sink's held lone singles: a window per producer, a bound over the whole stream, and a
re-read from `HOLD_STREAM_MESSAGES` before a checkpoint restoring exactly what was held."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from live.sink.singles import HOLD_MESSAGES, HOLD_STREAM_MESSAGES, HeldSingles, Producer
from schemas.events import Event, FlowPacket
from tests.kit.derived import alert, classifier_hit, flow_packet

P0: Producer = ("live", "compute/p0of2")
P1: Producer = ("live", "compute/p1of2")
ALPHA: Producer = ("live", "")


def single(packet_id: str) -> FlowPacket:
    return flow_packet(packet_id=packet_id, kind="single", n_prints=1)


class Stream:
    """Messages fed to a HeldSingles in stream order, numbering them as JetStream does."""

    def __init__(self, held: HeldSingles) -> None:
        self.held = held
        self.seq = 0

    def send(self, producer: Producer, events: list[Event]) -> list[str]:
        self.seq += 1
        self.held.hold(self.seq, events, producer)
        return [p.packet_id for p in self.held.claim(self.seq, events)]

    def fill(self, producer: Producer, messages: int) -> None:
        for _ in range(messages):
            self.send(producer, [])


def test_only_singles_are_held_and_a_hit_or_an_alert_claims_each_once() -> None:
    stream = Stream(HeldSingles())
    sweep = flow_packet(packet_id="sweep", kind="sweep", n_prints=1)
    stream.send(P0, [single("a"), single("b"), sweep])
    assert stream.send(P0, [classifier_hit(packet_id="sweep")]) == []  # stored anyway
    assert stream.send(P0, [classifier_hit(packet_id="b")]) == ["b"]
    assert stream.send(P0, [alert(packet_id="b"), alert(packet_id="a")]) == ["a"]
    assert stream.send(P0, [classifier_hit(packet_id="a")]) == []


def test_other_producers_messages_never_push_a_producers_singles_out() -> None:
    stream = Stream(HeldSingles())
    stream.send(P0, [single("p0-flagged")])
    for i in range(3 * HOLD_MESSAGES):  # the other partition and alpha, interleaved
        stream.send(P1, [single(f"p1-{i}")])
        stream.send(ALPHA, [])
    assert stream.send(P0, [classifier_hit(packet_id="p0-flagged")]) == ["p0-flagged"]
    # the other partition's own singles are still held too, up to its last HOLD_MESSAGES
    oldest_held = 3 * HOLD_MESSAGES - HOLD_MESSAGES
    assert stream.send(P1, [classifier_hit(packet_id=f"p1-{oldest_held - 1}")]) == []
    assert stream.send(P1, [classifier_hit(packet_id=f"p1-{oldest_held + 1}")]) == [
        f"p1-{oldest_held + 1}"
    ]


def test_a_producer_may_claim_another_producers_single() -> None:
    stream = Stream(HeldSingles())
    stream.send(P0, [single("a")])
    assert stream.send(ALPHA, [alert(packet_id="a")]) == ["a"]


def test_a_single_is_held_through_its_producers_next_hold_messages_messages() -> None:
    stream = Stream(HeldSingles())
    stream.send(P0, [single("a")])
    stream.fill(P0, HOLD_MESSAGES)  # 64 later messages of its producer: still held
    assert stream.send(P1, [classifier_hit(packet_id="a")]) == ["a"]

    stream = Stream(HeldSingles())
    stream.send(P0, [single("a")])
    stream.fill(P0, HOLD_MESSAGES - 1)
    assert stream.send(P0, [classifier_hit(packet_id="a")]) == ["a"]  # the 64th later one

    stream = Stream(HeldSingles())
    stream.send(P0, [single("a")])
    stream.fill(P0, HOLD_MESSAGES)
    assert stream.send(P0, [classifier_hit(packet_id="a")]) == []  # the 65th: forgotten


def test_every_single_is_forgotten_hold_stream_messages_later_whoever_published() -> None:
    stream = Stream(HeldSingles())
    stream.send(P0, [single("a"), single("b")])
    stream.fill(P1, HOLD_STREAM_MESSAGES - 1)
    assert stream.send(P1, [classifier_hit(packet_id="a")]) == ["a"]  # seq 1 + 4096
    assert stream.send(P1, [classifier_hit(packet_id="b")]) == []  # seq 1 + 4097


Message = tuple[int, list[str], list[str]]  # producer index, singles, packet ids named
WINDOW, STREAM_WINDOW = 3, 5  # small: random logs reach every bound
# the oldest single a restarted sink must know: held STREAM_WINDOW before the first message
# after the checkpoint, by a producer silent since, and named by that message
AT_THE_BOUND = ([(0, ["pkt-0"], []), *[(1, [], [])] * 4, (1, [], ["pkt-0"])], 5)


@st.composite
def logs_and_checkpoints(draw: st.DrawFn) -> tuple[list[Message], int]:
    ids = [f"pkt-{i}" for i in range(6)]
    log = draw(
        st.lists(
            st.tuples(
                st.integers(0, 2),
                st.lists(st.sampled_from(ids), max_size=2, unique=True),
                st.lists(st.sampled_from(ids), max_size=2, unique=True),
            ),
            min_size=1,
            max_size=80,
        )
    )
    return log, draw(st.integers(0, len(log)))


def as_events(singles: list[str], named: list[str]) -> list[Event]:
    events: list[Event] = [single(p) for p in singles]
    return events + [classifier_hit(packet_id=p) for p in named]


@settings(max_examples=200, deadline=None)
@example(AT_THE_BOUND)
@given(logs_and_checkpoints())
def test_reading_back_stream_window_messages_restores_exactly_what_was_held(
    case: tuple[list[Message], int],
) -> None:
    """A sink restarted at any checkpoint, having re-read from `stream_window` messages
    before it, claims what an uninterrupted sink claims."""
    log, checkpoint = case
    producers = [P0, P1, ALPHA]

    def claims(start: int) -> list[list[str]]:
        held = HeldSingles(WINDOW, STREAM_WINDOW)
        out = []
        for seq, (who, singles, named) in enumerate(log, start=1):
            if seq < start:
                continue
            events = as_events(singles, named)
            held.hold(seq, events, producers[who])
            claimed = [p.packet_id for p in held.claim(seq, events)]
            if seq > checkpoint:
                out.append(claimed)
        return out

    restarted = claims(max(1, checkpoint + 1 - STREAM_WINDOW))
    assert restarted == claims(1)
