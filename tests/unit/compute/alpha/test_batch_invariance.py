"""Batch invariance: any split of the same input gives identical frames and state, byte for
byte, also when the state is checkpointed and restored between batches."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.alpha import AlphaConfig, decode_state, encode_state, finish, initial_state, step
from schemas.codec import encode_batch
from schemas.events import Event
from schemas.ordering import canonical_sort
from tests.unit.compute.alpha.market import PERPETUAL, SCALE, CmeMarket

CONFIG = AlphaConfig(
    rate=0.04,
    strikes_window=8,
    max_quiet_ms=1_500,
    emit_ms=500,
    funding_symbols={"CL": PERPETUAL},
)


def session(seed: int) -> list[Event]:
    market = CmeMarket(seed=seed, strikes=tuple(range(60 * SCALE, 80 * SCALE + 1, SCALE)))
    events, _ = market.session(8, quiet=(3, 6), step_ms=400, extras=True)
    return canonical_sort(events)


def run_in_batches(events: list[Event], cuts: list[int], restore: bool) -> tuple[bytes, bytes, int]:
    state = initial_state(CONFIG, "split")
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


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    cuts=st.lists(st.integers(0, 10_000), max_size=15),
    restore=st.booleans(),
)
def test_any_split_of_a_session_gives_the_same_frame_bytes(
    seed: int, cuts: list[int], restore: bool
) -> None:
    events = session(seed)
    whole = run_in_batches(events, [], restore=False)
    split = run_in_batches(events, [cut % (len(events) + 1) for cut in cuts], restore)
    assert split == whole
    assert whole[2] == 2 * 8 + 1  # a frame per half second, and one at finish
