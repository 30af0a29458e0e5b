"""Batch invariance, two-run identity and checkpoint round trips of the engine."""

from __future__ import annotations

from collections.abc import Sequence

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute import EngineConfig, decode_state, encode_state, finish, initial_state, step
from schemas.codec import encode_batch
from schemas.events import Event, FlowPacket, OptionPrint
from tests.unit.compute.gen import random_session, random_splits, seeded


def run_split(events: Sequence[Event], cuts: Sequence[int]) -> bytes:
    state = initial_state(EngineConfig(), "prop")
    outputs: list[Event] = []
    bounds = [0, *cuts, len(events)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        state, out = step(state, events[lo:hi])
        outputs += out
    state, out = finish(state)
    return encode_batch(outputs + out)


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
