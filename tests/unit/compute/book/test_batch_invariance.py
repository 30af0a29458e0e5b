"""Batch invariance: any split of the same input gives identical outputs and state, byte for
byte, also when the state is checkpointed and restored between batches."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.book import decode_state, encode_state, finish, initial_state, step
from schemas.codec import encode_batch
from schemas.events import Event
from schemas.ordering import canonical_sort
from synth.book import generate_book_session


def run_in_batches(events: list[Event], cuts: list[int], restore: bool) -> tuple[bytes, bytes, int]:
    state = initial_state()
    outputs: list[Event] = []
    bounds = [0, *sorted(set(cuts)), len(events)]
    for start, end in zip(bounds, bounds[1:], strict=False):
        state, out = step(state, events[start:end])
        outputs.extend(out)
        if restore:
            state = decode_state(encode_state(state))
    state, out = finish(state)
    outputs.extend(out)
    return encode_batch(outputs), encode_state(state), len(outputs)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    events=st.integers(1, 150),
    cuts=st.lists(st.integers(0, 400), max_size=12),
    restore=st.booleans(),
)
def test_any_split_of_two_interleaved_sessions_gives_the_same_bytes(
    seed: int, events: int, cuts: list[int], restore: bool
) -> None:
    # Two instruments of one venue (MBO) and a third book read from MBP-10, merged in
    # canonical order as the log delivers them.
    es = generate_book_session(seed, events)
    nq = generate_book_session(seed + 1, events, symbol="NQH1", instrument_id=5483)
    read = generate_book_session(seed + 2, events, venue="XCME")
    mixed: list[Event] = canonical_sort([*es.mbo, *nq.mbo, *read.mbp10])
    whole = run_in_batches(mixed, [], restore=False)
    split = run_in_batches(mixed, [cut % (len(mixed) + 1) for cut in cuts], restore)
    assert split == whole
    assert whole[2] == len(es.trades) + len(nq.trades) + len(read.trades)
