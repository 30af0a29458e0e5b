"""The compiled kernel against the struct engine, its executable specification.

Both run the same sessions (late events, crossed quotes, open interest, heartbeats, gaps,
bad prints, contracts known only by their OCC symbol, several days) split into random
micro-batches, the kernel from tiny initial pools so every growth path runs; their outputs
must be identical, event for event, and so must the counters."""

from __future__ import annotations

import random
from collections.abc import Sequence

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compute.flow.kernel
from compute.calendar import NS_PER_DAY
from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.columnar import KernelRangeError, columns_from_events, new_state, step_columns
from compute.flow.formatting import to_events
from schemas.events import DarkPoolEvent, Event, Gap, OptionPrint, PrintInference
from schemas.ordering import canonical_sort
from tests.kit import events as kit
from tests.unit.compute.flow.gen import random_session, random_splits, seeded
from tests.unit.compute.flow.session import MS, T0, Contract

# Dark-pool windows are not in the kernel yet: their outputs and counters are left out.
NOT_IN_KERNEL = (DarkPoolEvent,)
DARK_COUNTERS = ("dark", "equity_quotes")
# Short histories, so a few days exercise the unusual-volume rollover.
SHORT_HISTORY = EngineConfig(unusual_volume_days=3, unusual_volume_min_days=2)


def spec_outputs(
    events: Sequence[Event], cuts: Sequence[int], config: EngineConfig
) -> tuple[dict[type[Event], list[Event]], dict[str, int]]:
    state = initial_state(config, "diff")
    out: list[Event] = []
    bounds = [0, *cuts, len(events)]
    for lo, hi in zip(bounds, bounds[1:], strict=False):
        state, batch_out = step(state, events[lo:hi])
        out += batch_out
    state, tail = finish(state)
    grouped: dict[type[Event], list[Event]] = {}
    for event in out + tail:
        if not isinstance(event, NOT_IN_KERNEL):
            grouped.setdefault(type(event), []).append(event)
    counters = {k: v for k, v in state.counters.items() if not k.startswith(DARK_COUNTERS)}
    return grouped, counters


def kernel_outputs(
    events: Sequence[Event], cuts: Sequence[int], config: EngineConfig, capacity: int
) -> tuple[dict[type[Event], list[Event]], dict[str, int]]:
    state = new_state(config, "diff", capacity)
    grouped: dict[type[Event], list[Event]] = {}
    bounds = [0, *cuts, len(events)]
    batches = [list(events[lo:hi]) for lo, hi in zip(bounds, bounds[1:], strict=False)]
    for n, batch in enumerate([*batches, []]):
        outputs = step_columns(state, columns_from_events(state, batch), finish=n == len(batches))
        for kind, found in to_events(state, outputs, batch).items():
            grouped.setdefault(kind, []).extend(found)
    return grouped, state.counter_values


def odd_events(rng: random.Random, base: int) -> list[Event]:
    """Gaps, bad prints, prints of contracts never defined (OCC or not)."""
    known = Contract(1, 250.0, "C")
    stranger = Contract(77, 300.0, "P")  # no definition: learnt from its OCC symbol
    found: list[Event] = []
    for k in range(rng.randint(1, 6)):
        ts = base + rng.randint(0, 5_000) * MS
        found.append(kit.gap(ts_recv=ts, first_ts_recv=ts - MS, last_ts_recv=ts))
        found.append(known.trade(ts + 1, 0.0 if k % 2 else 1.5, 0 if k % 2 else 5))
        found.append(stranger.trade(ts + 2, 2.0, 3))
        found.append(stranger.quote(ts + 3, 1.9, 2.1))
        unknown = kit.option_print(
            ts_recv=ts + 4, ts_event=ts, publisher_id=20, instrument_id=99, sequence=k,
            source="test", symbol="NOT-OCC", underlying="", price=1, size=1,
        )  # fmt: skip
        found.append(unknown)
    return found


def not_raw(ts: int) -> PrintInference:
    return PrintInference(
        ts, "x", ts, 1, 1, 1, "s", "AAPL", 1, 1, "buy", "A", "quote", 0.8, "joined",
        None, None, None, None, None,
    )  # fmt: skip


def days_session(rng: random.Random, days: int, n: int, late: float) -> list[Event]:
    """`days` sessions of the random market, one calendar day apart, with odd events mixed in."""
    events: list[Event] = []
    for day in range(days):
        shift = day * NS_PER_DAY
        session = random_session(rng, n, late_share=0.0)
        session = canonical_sort(session + odd_events(rng, T0))
        session.insert(rng.randint(0, len(session)), not_raw(T0))  # outside the order
        events += [_shifted(event, shift) for event in session]
    if late:
        for _ in range(int(len(events) * late)):
            i = rng.randrange(len(events))
            events.insert(min(len(events) - 1, i + rng.randint(1, 40)), events.pop(i))
    return events


def _shifted(event: Event, shift: int) -> Event:
    changes: dict[str, int] = {"ts_recv": event.ts_recv + shift}
    ts_event = getattr(event, "ts_event", None)
    if isinstance(ts_event, int):
        changes["ts_event"] = ts_event + shift
    return msgspec.structs.replace(event, **changes)


def assert_same(events: Sequence[Event], cuts: Sequence[int], config: EngineConfig, cap: int):
    spec, spec_counters = spec_outputs(events, cuts, config)
    kernel, kernel_counters = kernel_outputs(events, cuts, config, cap)
    assert set(kernel) == set(spec)
    for kind in spec:
        assert kernel[kind] == spec[kind], kind.__name__
    assert kernel_counters == spec_counters


def test_the_kernel_is_compiled() -> None:
    assert compute.flow.kernel.__file__.endswith(".so"), "run `make install` to build it"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    days=st.integers(1, 4),
    n=st.integers(0, 200),
    late=st.sampled_from([0.0, 0.03]),
    capacity=st.sampled_from([1, 2, 3, 64]),
)
def test_kernel_equals_the_struct_engine_on_random_sessions_and_splits(
    seed: int, days: int, n: int, late: float, capacity: int
) -> None:
    rng = seeded(seed)
    events = days_session(rng, days, n, late)
    assert_same(events, random_splits(rng, len(events)), SHORT_HISTORY, capacity)


def test_kernel_equals_the_struct_engine_on_a_long_session_one_event_per_batch() -> None:
    rng = seeded(5)
    events = days_session(rng, 3, 1500, 0.01)
    assert any(type(e) is Gap for e in events)
    assert_same(events, list(range(1, len(events))), SHORT_HISTORY, 1)
    assert_same(events, [], EngineConfig(), 4)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300))
def test_kernel_outputs_are_batch_invariant(seed: int, n: int) -> None:
    rng = seeded(seed)
    events = days_session(rng, 2, n, 0.02)
    whole, whole_counters = kernel_outputs(events, [], EngineConfig(), 1024)
    split, split_counters = kernel_outputs(
        events, random_splits(rng, len(events)), EngineConfig(), 1
    )
    assert split == whole
    assert split_counters == whole_counters


def test_a_print_beyond_the_exact_range_stops_the_batch_with_a_clear_error() -> None:
    c = Contract(1)
    huge = c.trade(T0, 1.0, 1)
    huge = OptionPrint(**{**_fields(huge), "price": 2**61, "size": 4})
    state = new_state(EngineConfig(), "range")
    with pytest.raises(KernelRangeError, match="outside the kernel's exact range"):
        step_columns(state, columns_from_events(state, [c.definition(), huge]))


def _fields(event: Event) -> dict[str, object]:
    return msgspec.structs.asdict(event)
