"""Classifier rules and alerts on hand-built packets, with their evidence."""

from __future__ import annotations

import statistics

from compute.calendar import is_trading_day, new_york_date
from compute.flow import EngineConfig
from schemas.events import Alert, ClassifierHit, Event, FlowPacket
from tests.unit.compute.flow.session import MS, SECOND, T0, Contract, heartbeat, run


def hits(out: list[Event]) -> list[ClassifierHit]:
    return [e for e in out if isinstance(e, ClassifierHit)]


def alerts(out: list[Event]) -> list[Alert]:
    return [e for e in out if isinstance(e, Alert)]


def sweep(c: Contract, t: int, size: int, price: float = 10.00) -> list[Event]:
    return [c.trade(t + k * 2 * MS, price, size, 20 + k) for k in range(3)]


def test_sweep_over_the_premium_floor_fires_with_members_nbbo_baseline_and_thresholds() -> None:
    c = Contract(1)
    out = run([c.definition(), c.quote(T0 - MS, 9.90, 10.00), *sweep(c, T0, 20)])
    [hit] = hits(out)
    [packet] = [e for e in out if isinstance(e, FlowPacket)]
    assert (hit.rule, hit.packet_id, hit.premium_cents) == ("sweep", packet.packet_id, 6_000_000)
    assert [m.nbbo_ask_px for m in hit.members] == [10 * 10**9] * 3
    [premium] = hit.baselines
    assert (premium.metric, premium.n, premium.z) == ("premium", 0, None)  # too few samples
    assert hit.thresholds["min_premium_cents"] == 4_000_000
    assert "min_premium_z" not in hit.thresholds  # z was not available, so not applied
    [alert] = alerts(out)
    assert (alert.rules, alert.hit_ids, alert.severity) == (["sweep"], [hit.hit_id], 2)
    assert alert.members == hit.members and alert.baselines == hit.baselines


def test_sweep_below_the_premium_floor_is_a_packet_but_no_hit() -> None:
    c = Contract(1)
    out = run([c.definition(), c.quote(T0 - MS, 9.90, 10.00), *sweep(c, T0, 5)])
    assert hits(out) == [] and alerts(out) == []


def test_golden_sweep_needs_a_million_dollars_and_size_above_open_interest() -> None:
    c = Contract(1)
    base = [c.definition(), c.quote(T0 - MS, 9.90, 10.00), c.open_interest(T0 - MS, 1000)]
    out = run([*base, *sweep(c, T0, 400)])  # 1200 contracts, $1.2M
    assert sorted(h.rule for h in hits(out)) == ["golden_sweep", "sweep", "unusual_volume"]
    [alert] = alerts(out)
    assert alert.severity == 5
    c = Contract(1)
    base = [c.definition(), c.quote(T0 - MS, 9.90, 10.00), c.open_interest(T0 - MS, 5000)]
    assert "golden_sweep" not in {h.rule for h in hits(run([*base, *sweep(c, T0, 400)]))}


def test_unusual_volume_fires_once_when_day_volume_passes_open_interest() -> None:
    c = Contract(1)
    events: list[Event] = [c.definition(), c.quote(T0 - MS, 0.90, 1.00), c.open_interest(T0, 10)]
    events += [c.trade(T0 + k * SECOND, 1.00, 6, 20) for k in range(1, 4)]  # 6, 12, 18
    unusual = [h for h in hits(run(events)) if h.rule == "unusual_volume"]
    assert len(unusual) == 1
    assert unusual[0].thresholds == {"open_interest": 10.0, "day_volume": 12.0}


def sessions(count: int) -> list[int]:
    """09:30 New York of `count` trading days from T0's on (T0 included)."""
    days: list[int] = []
    ts = T0
    while len(days) < count:
        if is_trading_day(new_york_date(ts)):
            days.append(ts)
        ts += 86_400 * SECOND
    return days


def unusual_hits(events: list[Event]) -> list[ClassifierHit]:
    return [h for h in hits(run(events)) if h.rule == "unusual_volume"]


def test_unusual_volume_fires_once_when_day_volume_passes_twice_its_daily_average() -> None:
    c = Contract(1)
    *past, today = sessions(11)
    events: list[Event] = [c.definition(), c.quote(T0 - MS, 0.90, 1.00)]
    events += [c.trade(t, 1.00, 5, 20) for t in past]  # 10 sessions of 5 contracts
    quiet = [*events, c.trade(today, 1.00, 10, 20)]  # 10: not more than 2 x 5
    assert unusual_hits(quiet) == []
    events += [c.trade(today + k * SECOND, 1.00, 6, 20) for k in range(3)]  # 6, 12, 18
    [hit] = unusual_hits(events)
    assert hit.thresholds == {
        "day_volume": 12.0,
        "average_volume": 5.0,
        "average_days": 10.0,
        "average_multiple": 2.0,
    }
    assert hit.score == 2.4  # 12 against an average of 5
    assert hit.ts_recv == today + SECOND  # the second packet of the day


def test_sessions_without_a_print_count_as_zero_volume_in_the_average() -> None:
    c = Contract(1)
    first, *_, today = sessions(11)  # nine quiet sessions in between
    events: list[Event] = [c.definition(), c.quote(T0 - MS, 0.90, 1.00)]
    events += [c.trade(first, 1.00, 10, 20), c.trade(today, 1.00, 3, 20)]
    [hit] = unusual_hits(events)
    assert (hit.thresholds["average_volume"], hit.thresholds["average_days"]) == (1.0, 10.0)


def test_the_average_needs_its_minimum_of_known_sessions() -> None:
    c = Contract(1)
    *past, today = sessions(11)
    events: list[Event] = [c.definition(), c.quote(T0 - MS, 0.90, 1.00)]
    events += [c.trade(t, 1.00, 5, 20) for t in past]
    events.append(c.trade(today, 1.00, 50, 20))
    assert len(unusual_hits(events)) == 1
    fewer = EngineConfig(unusual_volume_min_days=11)
    assert [h for h in hits(run(events, fewer)) if h.rule == "unusual_volume"] == []


def repeated(underlying: str, price: float) -> list[Event]:
    c = Contract(1, underlying=underlying)
    trades = [c.trade(T0 + k * 15 * MS, price, 10, 25) for k in range(6)]  # 6 in 75 ms
    return [c.definition(), c.quote(T0 - MS, price - 0.10, price), *trades]


def test_repeated_hits_use_the_market_cap_tier_floor_of_the_underlying() -> None:
    config = EngineConfig()
    # 6 x 10 contracts x $2.00 x 100 = $12,000: over the default (mid) floor, under mega's
    assert config.tier_floor_cents("ZZZZ") == 1_000_000
    assert config.tier_floor_cents("SPY") == 2_500_000
    assert "repeated_hits" in {h.rule for h in hits(run(repeated("ZZZZ", 2.00)))}
    assert "repeated_hits" not in {h.rule for h in hits(run(repeated("SPY", 2.00)))}
    assert "repeated_hits" in {h.rule for h in hits(run(repeated("SPY", 5.00)))}


def test_one_large_print_fires_the_block_rule() -> None:
    c = Contract(1)
    out = run([c.definition(), c.quote(T0 - MS, 0.90, 1.00), c.trade(T0, 1.00, 800, 20)])
    [hit] = hits(out)
    assert (hit.rule, hit.packet_kind, hit.size) == ("block", "block", 800)


def test_spike_needs_z_scores_from_enough_samples() -> None:
    c = Contract(1)
    events: list[Event] = [c.definition(), c.quote(T0 - MS, 4.90, 5.00)]
    for k in range(12):  # twelve small packets, one second apart: the baseline
        events.append(c.trade(T0 + k * SECOND, 5.00, 1 + k % 3, 20))
    spike = c.trade(T0 + 13 * SECOND, 5.00, 450, 20)  # $225k, under the block floors
    out = run([*events, spike])
    [hit] = hits(out)
    assert hit.rule == "spike"
    premium, size = hit.baselines
    assert (premium.metric, premium.n, size.metric, size.n) == ("premium", 12, "size", 12)
    assert premium.z is not None and premium.z >= 2.5 and size.z is not None and size.z >= 2
    samples = [500 * 100 * (1 + k % 3) for k in range(12)]  # $5.00 x 100 x size, in cents
    assert premium.mean == statistics.fmean(samples) == 100_000
    assert premium.std == round(statistics.pstdev(samples), 4)
    # with one sample fewer than classifier_z_min_samples there is no z, so no spike
    out = run([*events[:-1], heartbeat(T0 + 12 * SECOND), spike])
    assert hits(out) == []
