"""Engines sharded by underlying emit together exactly what one engine emits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.flow import EngineConfig, finish, initial_state, step
from compute.flow.shards import Router
from schemas.codec import encode_event
from schemas.events import Event
from tests.unit.compute.flow.gen import random_session, seeded
from tests.unit.compute.flow.session import T0, Contract, equity_print, heartbeat


def outputs(events: Sequence[Event]) -> tuple[list[bytes], Counter[str]]:
    state = initial_state(EngineConfig(), "shards")
    state, out = step(state, events)
    state, rest = finish(state)
    return [encode_event(e) for e in out + rest], Counter(state.counters)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 400), shards=st.integers(2, 4))
def test_shards_together_emit_what_one_engine_emits(seed: int, n: int, shards: int) -> None:
    events = random_session(seeded(seed), n)
    whole, counters = outputs(events)
    parts = Router(shards).route(events)
    assert sum(len(part) for part in parts) >= len(events)
    sharded: list[bytes] = []
    sharded_counters: Counter[str] = Counter()
    for part in parts:
        out, counted = outputs(part)
        sharded += out
        sharded_counters += counted
    assert sorted(sharded) == sorted(whole)
    assert sharded_counters == counters


def test_a_contract_and_its_equity_follow_the_definitions_underlying() -> None:
    msft = Contract(4, 260.0, "C", underlying="MSFT")
    definition = msft.definition()
    # A print whose own underlying field disagrees still goes where its definition went.
    stray = msgspec.structs.replace(msft.trade(T0, 1.0, 5, 20), underlying="AAPL")
    tick, spot = heartbeat(T0), equity_print(T0, 260.0, symbol="MSFT")
    parts = Router(2, weights={"AAPL": 10, "MSFT": 9}).route([definition, tick, stray, spot])
    msft_shard = 0 if definition in parts[0] else 1
    assert parts[msft_shard] == [definition, tick, stray, spot]
    assert parts[1 - msft_shard] == [tick]  # time moves on every shard


def test_weights_place_the_heaviest_underlyings_first_each_on_the_lightest_shard() -> None:
    router = Router(2, weights={"A": 10, "B": 6, "C": 5, "D": 1})
    prints = {name: equity_print(T0, 1.0, symbol=name) for name in "ABCDE"}
    shard = {name: 0 if router.route([prints[name]])[0] else 1 for name in "ABCD"}
    assert shard["A"] != shard["B"] == shard["C"]
    assert shard["D"] == shard["A"]  # A 10 + D 1 against B 6 + C 5
    # A name without a weight goes to the shard that has received the fewest events.
    router.route([prints["B"]])
    assert router.route([prints["E"]])[shard["A"]] == [prints["E"]]
