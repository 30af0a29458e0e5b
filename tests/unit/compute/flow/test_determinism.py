"""Batch invariance, two-run identity and checkpoint round trips of the engine, on random
sessions and on the hard synthetic tape (`synth --hard`) by both replay paths."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cache

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.flow import EngineConfig, decode_state, encode_state, finish, initial_state, step
from schemas.codec import encode_batch, encode_event
from schemas.events import Event, FlowPacket, OptionPrint, PrintInference
from synth import SyntheticSession, generate_session, hard_config
from tests.kit.paths import tcbbo_events, trades_and_cmbp1
from tests.unit.compute.flow.gen import random_session, random_splits, seeded

HARD_SEED = 4_242  # a seed of these tests only
HARD_PATHS: dict[str, Callable[[SyntheticSession], list[Event]]] = {
    "tcbbo": tcbbo_events,
    "trades+cmbp-1": trades_and_cmbp1,
}
HARD_STATUSES = {"tcbbo": {"print"}, "trades+cmbp-1": {"joined", "held"}}


def split_outputs(events: Sequence[Event], cuts: Sequence[int]) -> list[Event]:
    """Every output of one engine fed `events` in batches cut at `cuts`, session finished."""
    state = initial_state(EngineConfig(), "prop")
    outputs: list[Event] = []
    bounds = [0, *cuts, len(events)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        state, out = step(state, events[lo:hi])
        outputs += out
    state, out = finish(state)
    return outputs + out


def run_split(events: Sequence[Event], cuts: Sequence[int]) -> bytes:
    return encode_batch(split_outputs(events, cuts))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 160), late=st.sampled_from([0.0, 0.05]))
def test_any_split_into_micro_batches_gives_identical_bytes(seed: int, n: int, late: float) -> None:
    rng = seeded(seed)
    events = random_session(rng, n, late_share=late)
    whole = run_split(events, [])
    assert run_split(events, random_splits(rng, len(events))) == whole
    assert run_split(events, list(range(1, len(events)))) == whole


def test_large_session_split_many_ways_and_run_twice_is_identical() -> None:
    rng = seeded(7)
    events = random_session(rng, 6000, late_share=0.01)
    whole = run_split(events, [])
    assert whole == run_split(events, [])
    for _ in range(3):
        assert run_split(events, random_splits(rng, len(events))) == whole
    assert run_split(events, list(range(1, len(events)))) == whole


def test_every_print_belongs_to_exactly_one_packet() -> None:
    events = random_session(seeded(11), 4000, late_share=0.02)
    state = initial_state(EngineConfig(), "prop")
    state, out = step(state, events)
    state, tail = finish(state)
    keys = [
        (m.instrument_id, m.publisher_id, m.ts_event, m.sequence)
        for p in out + tail
        if isinstance(p, FlowPacket)
        for m in p.members
    ]
    prints = [
        (e.instrument_id, e.publisher_id, e.ts_event, e.sequence)
        for e in events
        if isinstance(e, OptionPrint)
    ]
    assert sorted(keys) == sorted(prints)
    assert len(set(keys)) == len(keys)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(2, 300))
def test_state_checkpointed_mid_session_continues_identically(seed: int, n: int) -> None:
    rng = seeded(seed)
    events = random_session(rng, n, late_share=0.03)
    cut = rng.randrange(1, len(events))
    whole = run_split(events, [])

    state = initial_state(EngineConfig(), "prop")
    state, first = step(state, events[:cut])
    blob = encode_state(state)
    restored = decode_state(blob)
    assert encode_state(restored) == blob
    restored, second = step(restored, events[cut:])
    restored, tail = finish(restored)
    assert encode_batch(first + second + tail) == whole


def test_outputs_do_not_depend_on_run_history_of_other_states() -> None:
    events = random_session(seeded(3), 1500)
    a = run_split(events, [])
    run_split(random_session(seeded(4), 1500), [])  # unrelated run in between
    assert run_split(events, []) == a


# ------------------------------------------------------------------------ the hard tape


@cache
def hard_session() -> SyntheticSession:
    return generate_session(hard_config(HARD_SEED))


@cache
def hard_tape(path: str) -> tuple[list[Event], list[range]]:
    """The hard session's events by one path and, per planted multi-leg order, the cut points
    from two events before its first print to two after its last: cuts there part its legs,
    and the quotes moving around them, into different batches."""
    session = hard_session()
    events = HARD_PATHS[path](session)
    # keyed without the sequence, which tcbbo prints do not carry
    at = {
        (e.instrument_id, e.publisher_id, e.ts_event): i
        for i, e in enumerate(events)
        if isinstance(e, OptionPrint)
    }
    spans = []
    for label in session.labels:
        if label.packet_kind == "multi_leg":
            rows = [at[m.instrument_id, m.publisher_id, m.ts_event] for m in label.members]
            spans.append(range(max(1, min(rows) - 2), min(len(events), max(rows) + 3)))
    return events, spans


@cache
def hard_outputs(path: str) -> list[Event]:
    return split_outputs(hard_tape(path)[0], [])


def assert_identical(got: list[Event], want: list[Event]) -> None:
    """Byte-identical outputs, or a failure naming the first output that differs."""
    if encode_batch(got) == encode_batch(want):
        return
    pairs = zip(got, want, strict=False)
    first = next(
        (i for i, (a, b) in enumerate(pairs) if encode_event(a) != encode_event(b)),
        min(len(got), len(want)),
    )
    pytest.fail(
        f"{len(got)} outputs for {len(want)}; the first to differ is #{first}:\n"
        f"split: {got[first : first + 1]}\nwhole: {want[first : first + 1]}"
    )


@pytest.mark.parametrize("path", HARD_PATHS)
def test_hard_tape_has_the_orders_and_quotes_the_splits_cut_through(path: str) -> None:
    _, spans = hard_tape(path)
    outputs = hard_outputs(path)
    legs = {len(o.legs) for o in outputs if isinstance(o, FlowPacket) and o.kind == "multi_leg"}
    statuses = {o.nbbo_status for o in outputs if isinstance(o, PrintInference)}
    assert len(spans) >= 500
    assert {2, 3, 4} <= legs
    assert HARD_STATUSES[path] <= statuses


@pytest.mark.parametrize("path", HARD_PATHS)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_hard_tape_split_inside_complex_orders_and_anywhere_gives_identical_bytes(
    path: str, data: st.DataObject
) -> None:
    events, spans = hard_tape(path)
    inside = st.sampled_from(spans).flatmap(st.sampled_from)
    cuts = data.draw(st.lists(inside, min_size=1, max_size=60), label="inside orders")
    cuts += data.draw(st.lists(st.integers(1, len(events) - 1), max_size=20), label="anywhere")
    assert_identical(split_outputs(events, sorted(set(cuts))), hard_outputs(path))


@pytest.mark.parametrize("path", HARD_PATHS)
def test_hard_tape_in_batches_of_one_event_gives_identical_bytes(path: str) -> None:
    events, _ = hard_tape(path)
    assert_identical(split_outputs(events, range(1, len(events))), hard_outputs(path))


@pytest.mark.parametrize("path", HARD_PATHS)
def test_hard_tape_checkpointed_inside_complex_orders_continues_identically(path: str) -> None:
    events, spans = hard_tape(path)
    cuts = sorted(span[len(span) // 2] for span in spans[:: len(spans) // 6])
    state = initial_state(EngineConfig(), "prop")
    outputs: list[Event] = []
    for lo, hi in zip([0, *cuts], [*cuts, len(events)], strict=True):
        state, out = step(decode_state(encode_state(state)), events[lo:hi])
        outputs += out
    state, out = finish(state)
    assert_identical(outputs + out, hard_outputs(path))
