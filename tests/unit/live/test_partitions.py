"""Which partitions a worker runs, and the stable placement that live ingest partitions by."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from compute.flow.shards import Router, stable_shard
from live.partitions import Partition, owned_partitions
from schemas.errors import ConfigError
from schemas.events import Event, Heartbeat
from schemas.subjects import partition_filters
from tests.unit.compute.flow.gen import random_session, seeded
from tests.unit.compute.flow.session import T0, Contract, equity_print, heartbeat
from tests.unit.compute.flow.test_shards import outputs

NAMES = ("AAPL", "MSFT", "SPY", "QQQ", "TSLA", "NVDA", "AMD", "IWM")


def test_a_worker_runs_every_partition_unless_told_which() -> None:
    assert owned_partitions(None, 3) == [Partition(0, 3), Partition(1, 3), Partition(2, 3)]
    assert owned_partitions("2, 0,2", 4) == [Partition(0, 4), Partition(2, 4)]
    assert Partition(2, 4).label == "p2of4"
    assert Partition(2, 4).filters == partition_filters(2) == (
        "flow.raw.*.*.p2", "flow.raw.*.*.all",
    )  # fmt: skip


@pytest.mark.parametrize("spec", ["4", "-1", "one", "0;1", "0,,1"])
def test_a_partition_outside_the_count_is_refused_with_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match=r"expected partitions among 0\.\.3"):
        owned_partitions(spec, 4)


def session(names: tuple[str, ...]) -> list[Event]:
    """A definition, a print and the equity tape of each underlying, and a heartbeat."""
    contracts = [Contract(n + 1, underlying=name) for n, name in enumerate(names)]
    events: list[Event] = [c.definition() for c in contracts]
    for n, c in enumerate(contracts):
        events.append(c.trade(T0 + n, 1.0, 5, 20))
        events.append(equity_print(T0 + n, 250.0, symbol=c.underlying))
    events.append(heartbeat(T0 + len(names)))
    return events


def placement(parts: list[list[Event]]) -> dict[str, set[int]]:
    """The partitions each underlying's (or equity symbol's) events went to."""
    found: dict[str, set[int]] = {}
    for shard, part in enumerate(parts):
        for event in part:
            name = getattr(event, "underlying", None) or getattr(event, "symbol", None)
            if name and not isinstance(event, Heartbeat):
                found.setdefault(str(name), set()).add(shard)
    return found


def test_stable_routers_place_an_underlying_alike_whatever_they_saw_before() -> None:
    events = session(NAMES)
    # a publisher that saw everything, one that saw the names in reverse, one restarted
    # after the definitions: every underlying keeps one partition across all three
    whole = placement(Router(4, stable=True).route(events))
    backwards = placement(Router(4, stable=True).route(session(NAMES[::-1])))
    restarted = placement(Router(4, stable=True).route(events[len(NAMES) :]))
    assert whole == backwards == restarted
    assert all(len(shards) == 1 for shards in whole.values())
    assert {name: shards.pop() for name, shards in whole.items()} == {
        name: stable_shard(name, 4) for name in NAMES
    }
    # the names spread: more than one partition in use
    assert len({stable_shard(name, 4) for name in NAMES}) > 1


def test_a_stable_router_takes_no_weights() -> None:
    with pytest.raises(ValueError, match="by hash"):
        Router(2, {"AAPL": 3}, stable=True)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(0, 300), shards=st.integers(2, 4))
def test_stable_partitions_together_emit_what_one_engine_emits(
    seed: int, n: int, shards: int
) -> None:
    events = random_session(seeded(seed), n)
    whole = outputs(events)[0]
    parts = Router(shards, stable=True).route(events)
    combined: list[bytes] = []
    for part in parts:
        combined += outputs(part)[0]
    assert sorted(combined) == sorted(whole)
