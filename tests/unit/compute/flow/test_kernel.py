"""The compiled kernel against the struct engine, its executable specification.

Both run the same sessions (late events, crossed quotes, open interest, heartbeats, gaps,
bad prints, contracts known only by their OCC symbol, several days, dark-pool windows over
equity prints and quotes) split into random micro-batches, the kernel from tiny initial
pools so every growth path runs; their outputs must be identical, event for event, and so
must the counters."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import compute.flow.kernel
from compute.calendar import NS_PER_DAY
from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.baselines import fixed_ratio
from compute.flow.columnar import KernelRangeError, columns_from_events, new_state, step_columns
from compute.flow.formatting import to_events
from schemas.events import DarkPoolEvent, Event, Gap, OptionPrint, PrintInference
from schemas.ordering import canonical_sort
from synth import generate_session, hard_config
from tests.kit import events as kit
from tests.kit.paths import tcbbo_events, trades_and_cmbp1
from tests.unit.compute.flow.gen import random_session, random_splits, seeded
from tests.unit.compute.flow.session import MS, SECOND, T0, Contract, px

# Short histories, so a few days exercise the unusual-volume rollover.
SHORT_HISTORY = EngineConfig(unusual_volume_days=3, unusual_volume_min_days=2)
# Short dark-pool windows and low floors, so random equity flow opens and judges many.
BUSY_DARK = EngineConfig(
    darkpool_block_min_shares=1_000,
    darkpool_block_min_notional_cents=20_000_000,
    darkpool_impact_window_ns=2 * SECOND,
    darkpool_absorbed_max_impact_bps=10,
    darkpool_episode_window_ns=5 * SECOND,
    darkpool_episode_min_prints=3,
    darkpool_episode_min_shares=100,
    darkpool_episode_min_side_pct=60,
    darkpool_episode_min_move_bps=2,
)
EQUITY_COUNTERS = (
    "equity_quotes_unusable",
    "equity_quotes_late_ignored",
    "equity_prints_unusable",
    "equity_prints_late_ignored",
    "darkpool_late_prints",
    "darkpool_blocks_without_lit_reference",
    "darkpool_blocks_unobserved",
    "darkpool_episodes_without_lit_reference",
)


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
        grouped.setdefault(type(event), []).append(event)
    return grouped, state.counters


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


def dark_session(rng: random.Random, n: int) -> list[Event]:
    """Equity flow on a few symbols drifting up or down in phases: lit quotes (some crossed
    or one-sided), lit prints, off-exchange prints of every size (some carrying a quote,
    some unusable), on a symbol with no lit market too; option flow mixed in; some late."""
    mids = {"AAPL": 190.0, "MSFT": 410.0, "DARK": 0.0}
    drift = dict.fromkeys(mids, 0.0)
    events: list[Event] = []
    ts = T0
    for k in range(n):
        ts += rng.choice((1, 1000, 50 * MS, 300 * MS, 900 * MS, 3 * SECOND))
        symbol = rng.choice(("AAPL", "AAPL", "MSFT", "DARK"))
        if rng.random() < 0.05:
            drift[symbol] = rng.choice((-0.03, 0.0, 0.03))
        mid = mids[symbol] = max(1.0, mids[symbol] + drift[symbol] + rng.uniform(-0.01, 0.01))
        bid, ask = px(mid - 0.01), px(mid + 0.01)
        fields = dict(
            ts_recv=ts, ts_event=ts - rng.randint(0, 5000), publisher_id=rng.randint(2, 9),
            instrument_id=9000, sequence=k, source="test", symbol=symbol,
        )  # fmt: skip
        roll = rng.random()
        if roll < 0.3 and symbol != "DARK":
            if rng.random() < 0.05:
                bid, ask = ask, bid  # crossed: unusable
            one_sided = rng.random() < 0.03
            events.append(kit.equity_quote(**fields, bid_px=None if one_sided else bid, ask_px=ask))
        elif roll < 0.45 and symbol != "DARK":
            events.append(kit.equity_print(**fields, price=px(mid), size=rng.choice((100, 300))))
        elif roll < 0.95:
            up = drift[symbol] > 0 if drift[symbol] else rng.random() < 0.5
            price = rng.choice((ask, ask + px(0.01)) if up else (bid, bid - px(0.01), px(mid)))
            carried = rng.random() < 0.2
            events.append(
                kit.equity_print(
                    **fields, venue="FINN", off_exchange=True,
                    price=0 if rng.random() < 0.01 else price,
                    size=rng.choice((50, 150, 400, 1_200, 5_000)),
                    bid_px=bid if carried else None, ask_px=ask if carried else None,
                )
            )  # fmt: skip
        else:
            events.append(kit.heartbeat(ts_recv=ts + rng.choice((1, 4 * SECOND, 7 * SECOND))))
    events = canonical_sort(events + random_session(rng, n // 2))
    for _ in range(len(events) // 30):
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


def test_every_array_of_a_new_kernel_reads_as_empty_before_the_state_binds_its_own() -> None:
    kernel = compute.flow.kernel.FlowKernel(EngineConfig(), hooks=None)
    arrays = [name for name in dir(kernel) if not name.startswith("_") and hasattr(
        getattr(kernel, name), "shape")]  # fmt: skip
    assert {"contracts", "blocks", "dark_out", "fifo", "scratch_legs"} <= set(arrays)
    assert all(getattr(kernel, name).shape[0] == 0 for name in arrays)


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


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(0, 400),
    capacity=st.sampled_from([1, 2, 64]),
)
def test_kernel_equals_the_struct_engine_on_busy_dark_pool_sessions(
    seed: int, n: int, capacity: int
) -> None:
    rng = seeded(seed)
    events = dark_session(rng, n)
    assert_same(events, random_splits(rng, len(events)), BUSY_DARK, capacity)


def test_the_dark_pool_sessions_reach_every_verdict_and_counter() -> None:
    """The generator is worth its differential: across a few sessions the specification
    emits every kind of dark-pool event and bumps every dark-pool counter."""
    kinds: Counter[str] = Counter()
    counters: Counter[str] = Counter()
    for seed in range(12):
        rng = seeded(seed)
        events = dark_session(rng, 400)
        spec, spec_counters = spec_outputs(events, [], BUSY_DARK)
        kinds.update(e.kind for e in spec.get(DarkPoolEvent, []))  # type: ignore[attr-defined]
        counters.update(spec_counters)
        assert_same(events, random_splits(rng, len(events)), BUSY_DARK, 1)
    assert set(kinds) == {"absorbed_block", "stealth_accumulation", "distribution"}, kinds
    assert set(EQUITY_COUNTERS) <= set(counters), counters


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


def _block_at(ref_bid: int, spread: int, end_bid: int) -> list[Event]:
    """A lit quote, a 100-share off-exchange block against it, a later quote, the window's
    end (BLOCK_ANY_MOVE judges every block with its move)."""
    fields = dict(publisher_id=2, instrument_id=9000, source="test", symbol="BRK.A")
    return [
        kit.equity_quote(**fields, ts_recv=T0, ts_event=T0, sequence=1, bid_px=ref_bid,
                         ask_px=ref_bid + spread),
        kit.equity_print(**fields, ts_recv=T0 + 1, ts_event=T0, sequence=2, off_exchange=True,
                         venue="FINN", price=ref_bid, size=100),
        kit.equity_quote(**fields, ts_recv=T0 + 2, ts_event=T0 + 2, sequence=3,
                         bid_px=end_bid, ask_px=end_bid + spread),
        kit.heartbeat(ts_recv=T0 + 2 * SECOND),
    ]  # fmt: skip


BLOCK_ANY_MOVE = EngineConfig(
    darkpool_block_min_shares=100,
    darkpool_impact_window_ns=SECOND,
    darkpool_absorbed_max_impact_bps=10**14,
)


@settings(max_examples=200, deadline=None)
@given(
    ref_bid=st.integers(10**9, 2**55),  # $1 to $36 M a share
    spread=st.integers(0, 2**20),
    end_bid=st.integers(1, 2**55),
)
def test_the_lit_move_of_a_block_is_exact_across_the_price_range(
    ref_bid: int, spread: int, end_bid: int
) -> None:
    events = _block_at(ref_bid, spread, end_bid)
    assert_same(events, [], BLOCK_ANY_MOVE, 1)
    kernel, _ = kernel_outputs(events, [], BLOCK_ANY_MOVE, 1)
    ref, end = (2 * ref_bid + spread) // 2, (2 * end_bid + spread) // 2
    (block,) = kernel[DarkPoolEvent]
    assert isinstance(block, DarkPoolEvent)
    assert block.price_impact_bps == fixed_ratio(abs(end - ref) * 10_000, ref)


def test_a_lit_price_beyond_the_exact_range_stops_the_batch_with_a_clear_error() -> None:
    state = new_state(BLOCK_ANY_MOVE, "range")
    events = _block_at(2**57, 2, 2**57 + 10**9)
    with pytest.raises(KernelRangeError, match="equity price"):
        step_columns(state, columns_from_events(state, events), finish=True)


def _fields(event: Event) -> dict[str, object]:
    return msgspec.structs.asdict(event)


@pytest.mark.parametrize("path", ["tcbbo", "trades+cmbp-1"])
def test_kernel_equals_the_struct_engine_on_the_hard_tape(path: str) -> None:
    session = generate_session(hard_config(seed=2_718, minutes=4))
    events = tcbbo_events(session) if path == "tcbbo" else trades_and_cmbp1(session)
    rng = seeded(2_718)
    assert_same(events, sorted(rng.sample(range(1, len(events)), 40)), EngineConfig(), 16)
