"""Clustering prints into packets: sweeps, splits, blocks, singles and multi-leg structures."""

from __future__ import annotations

from compute.flow import EngineConfig, finish, initial_state, step
from schemas.events import FlowPacket
from tests.unit.compute.flow.session import (
    MS,
    SECOND,
    T0,
    Contract,
    equity_print,
    heartbeat,
    packets,
    px,
    run,
)

CALL = Contract(1, 250.0, "C")


def quoted(*contracts: Contract, ts: int = T0 - SECOND // 2) -> list:  # type: ignore[type-arg]
    events: list = []  # type: ignore[type-arg]
    for c in contracts:
        events += [c.definition(), c.quote(ts, 1.00, 1.10)]
    return events


def test_sweep_across_three_venues_within_window_is_one_packet() -> None:
    out = run(
        quoted(CALL)
        + [CALL.trade(T0, 1.10, 10, 20), CALL.trade(T0 + 2 * MS, 1.10, 10, 21),
           CALL.trade(T0 + 4 * MS, 1.11, 10, 22)]
    )  # fmt: skip
    [packet] = packets(out)
    assert (packet.kind, packet.side, packet.n_prints, packet.venues) == (
        "sweep", "buy", 3, [20, 21, 22],
    )  # fmt: skip
    assert packet.size == 30
    # premium in cents: (1.10*20 + 1.11*10) * 100 multiplier = $3,310
    assert packet.premium_cents == 331_000
    assert packet.bucket_counts == {"AA": 1, "A": 2}
    assert (packet.aggressor_ratio, packet.nbbo_coverage, packet.price_levels) == (1.0, 1.0, 2)


def test_same_pattern_on_one_venue_is_a_split() -> None:
    out = run(quoted(CALL) + [CALL.trade(T0, 1.10, 5, 20), CALL.trade(T0 + 9 * MS, 1.10, 5, 20)])
    assert [p.kind for p in packets(out)] == ["split"]


def test_window_is_capped_from_the_first_print_not_chained_through_gaps() -> None:
    window = EngineConfig().cluster_window_ns
    trades = [CALL.trade(T0 + k * 200 * MS, 1.10, 1, 20 + k) for k in range(5)]  # 0..800 ms
    out = run(quoted(CALL) + trades)
    sizes = [p.n_prints for p in packets(out)]
    assert window == 500 * MS
    assert sizes == [3, 2]  # 0, 200, 400 ms | 600, 800 ms


def test_one_large_print_is_a_block_and_a_small_one_is_single() -> None:
    out = run(quoted(CALL) + [CALL.trade(T0, 1.10, 800, 20), CALL.trade(T0 + SECOND, 1.00, 2, 20)])
    assert [p.kind for p in packets(out)] == ["block", "single"]


def test_opposite_sides_on_one_contract_are_separate_packets() -> None:
    out = run(quoted(CALL) + [CALL.trade(T0, 1.10, 5, 20), CALL.trade(T0 + MS, 1.00, 5, 21)])
    assert sorted(p.side for p in packets(out)) == ["buy", "sell"]


def test_packet_closes_on_event_time_not_at_the_batch_boundary() -> None:
    state = initial_state(EngineConfig(), "t")
    state, out = step(state, quoted(CALL) + [CALL.trade(T0, 1.10, 5, 20)])
    assert packets(out) == []
    state, out = step(state, [heartbeat(T0 + 500 * MS)])  # at the window's end: still open
    assert packets(out) == []
    state, out = step(state, [heartbeat(T0 + 500 * MS + 1)])
    assert [p.n_prints for p in packets(out)] == [1]


def test_finish_closes_every_open_packet() -> None:
    state = initial_state(EngineConfig(), "t")
    state, out = step(state, quoted(CALL) + [CALL.trade(T0, 1.10, 5, 20)])
    state, out = finish(state)
    assert len(packets(out)) == 1
    assert state.packets == {} and state.groups == {}


def test_late_print_becomes_its_own_flagged_packet_and_leaves_closed_output_alone() -> None:
    first = CALL.trade(T0, 1.10, 5, 20)
    late = CALL.trade(T0 + MS, 1.10, 5, 21)
    state = initial_state(EngineConfig(), "t")
    state, out = step(state, quoted(CALL) + [first, heartbeat(T0 + SECOND)])
    [closed] = packets(out)
    state, out = step(state, [late])
    [lone] = packets(out)
    assert lone.late and not closed.late
    assert lone.n_prints == 1 and lone.packet_id != closed.packet_id
    assert out[0].late  # its PrintInference is flagged too  # type: ignore[attr-defined]


def test_leg_detail_has_moneyness_days_to_expiry_volume_and_open_interest() -> None:
    events = quoted(CALL) + [
        equity_print(T0 - MS, 260.0),
        CALL.open_interest(T0 - MS, 1000),
        CALL.trade(T0, 1.10, 7, 20),
    ]
    [packet] = packets(run(events))
    [leg] = packet.legs
    assert packet.spot_px == px(260.0)
    assert leg.moneyness == round((260 - 250) / 260, 4)  # call in the money by 3.85 %
    assert leg.dte == 21  # sessions after Thu 2025-02-20 up to Fri 2025-03-21
    assert (leg.day_volume, leg.open_interest, leg.expiration_date) == (7, 1000, 20250321)
    assert leg.vwap_px == px(1.10)


def test_a_late_print_of_a_closed_day_does_not_restart_the_day_volume() -> None:
    day = 86_400 * SECOND
    events = quoted(CALL) + [
        CALL.trade(T0, 1.10, 7, 20),
        CALL.trade(T0 + day, 1.10, 3, 20),  # the next session: day volume 3
        heartbeat(T0 + day + SECOND),
        CALL.trade(T0 + MS, 1.10, 50, 21),  # late: yesterday's print, arriving now
        CALL.trade(T0 + day + 2 * SECOND, 1.10, 4, 20),
    ]
    found = packets(run(events))
    assert [(p.late, p.legs[0].day_volume) for p in found] == [
        (False, 7), (False, 3), (True, 3), (False, 7),
    ]  # fmt: skip


# ----------------------------------------------------------------------------- multi-leg


def multi_leg(*legs: tuple[Contract, float, int], venue: int = 22) -> FlowPacket:
    contracts = [c for c, _, _ in legs]
    trades = [c.trade(T0, price, size, venue, ts_event=T0 - 1000) for c, price, size in legs]
    found = packets(run(quoted(*contracts) + trades))
    assert len(found) == 1, [p.kind for p in found]
    return found[0]


def test_vertical_two_strikes_same_expiry_same_right() -> None:
    packet = multi_leg((Contract(1, 250.0), 1.10, 10), (Contract(2, 255.0), 1.00, 10))
    assert (packet.kind, packet.structure, len(packet.legs)) == ("multi_leg", "vertical", 2)
    assert packet.side == "mixed"
    assert [leg.ratio for leg in packet.legs] == [1, 1]


def test_straddle_strangle_and_risk_reversal() -> None:
    call, put = Contract(1, 250.0, "C"), Contract(2, 250.0, "P")
    assert multi_leg((call, 1.10, 10), (put, 1.10, 10)).structure == "straddle"
    call, put = Contract(1, 260.0, "C"), Contract(2, 240.0, "P")
    assert multi_leg((call, 1.10, 10), (put, 1.10, 10)).structure == "strangle"
    call, put = Contract(1, 260.0, "C"), Contract(2, 240.0, "P")
    assert multi_leg((call, 1.10, 10), (put, 1.00, 10)).structure == "risk_reversal"


def test_calendar_same_strike_two_expiries() -> None:
    near, far = Contract(1, 250.0, expiry=20250321), Contract(2, 250.0, expiry=20250418)
    assert multi_leg((near, 1.10, 10), (far, 1.00, 10)).structure == "calendar"


def test_butterfly_one_two_one_and_ladder() -> None:
    low, mid, high = Contract(1, 245.0), Contract(2, 250.0), Contract(3, 255.0)
    fly = multi_leg((low, 1.10, 10), (mid, 1.00, 20), (high, 1.10, 10))
    assert fly.structure == "butterfly"
    assert [leg.ratio for leg in fly.legs] == [1, 2, 1]
    low, mid, high = Contract(1, 245.0), Contract(2, 250.0), Contract(3, 255.0)
    assert multi_leg((low, 1.10, 10), (mid, 1.00, 10), (high, 1.00, 10)).structure == "ladder"


def test_legs_swept_across_venues_stay_in_one_multi_leg_packet() -> None:
    a, b = Contract(1, 250.0), Contract(2, 255.0)
    trades = [
        a.trade(T0, 1.10, 10, 22, ts_event=T0 - 1000),
        b.trade(T0, 1.00, 10, 22, ts_event=T0 - 1000),
        a.trade(T0 + 3 * MS, 1.10, 10, 23),  # the rest of leg a on another venue
        b.trade(T0 + 3 * MS, 1.00, 10, 24),
    ]
    [packet] = packets(run(quoted(a, b) + trades))
    assert (packet.kind, packet.structure, packet.n_prints) == ("multi_leg", "vertical", 4)
    assert [leg.venues for leg in packet.legs] == [[22, 23], [22, 24]]


def test_legs_outside_the_one_to_three_ratio_are_not_one_order() -> None:
    a, b = Contract(1, 250.0), Contract(2, 255.0)
    trades = [a.trade(T0, 1.10, 10, 22, ts_event=T0), b.trade(T0, 1.00, 40, 22, ts_event=T0)]
    assert sorted(p.kind for p in packets(run(quoted(a, b) + trades))) == ["single", "single"]


def test_prints_of_two_contracts_on_different_venues_are_not_a_multi_leg() -> None:
    a, b = Contract(1, 250.0), Contract(2, 255.0)
    trades = [a.trade(T0, 1.10, 10, 22, ts_event=T0), b.trade(T0, 1.00, 10, 23, ts_event=T0)]
    assert sorted(p.kind for p in packets(run(quoted(a, b) + trades))) == ["single", "single"]


def test_legs_received_microseconds_apart_are_one_order_but_a_millisecond_apart_are_not() -> None:
    a, b = Contract(1, 250.0), Contract(2, 255.0)
    close = [a.trade(T0, 1.10, 10, 22), b.trade(T0 + 40_000, 1.00, 10, 22)]
    assert [p.kind for p in packets(run(quoted(a, b) + close))] == ["multi_leg"]
    a, b = Contract(1, 250.0), Contract(2, 255.0)
    apart = [a.trade(T0, 1.10, 10, 22), b.trade(T0 + MS, 1.00, 10, 22)]
    assert sorted(p.kind for p in packets(run(quoted(a, b) + apart))) == ["single", "single"]


def test_a_leg_swept_across_venues_links_legs_that_printed_on_different_venues() -> None:
    a, b = Contract(1, 250.0), Contract(2, 255.0)
    trades = [
        a.trade(T0, 1.10, 5, 22),
        b.trade(T0 + 20_000, 1.00, 10, 23),  # leg b prints on 23 before leg a reaches it
        a.trade(T0 + 50_000, 1.10, 5, 23),
    ]
    [packet] = packets(run(quoted(a, b) + trades))
    assert (packet.kind, packet.structure, packet.n_prints) == ("multi_leg", "vertical", 3)


def test_an_unrelated_print_of_the_same_moment_on_another_venue_stays_out_of_the_order() -> None:
    a, b, other = Contract(1, 250.0), Contract(2, 255.0), Contract(3, 260.0)
    trades = [
        a.trade(T0, 1.10, 10, 22),
        other.trade(T0 + 10_000, 2.00, 3, 25),
        b.trade(T0 + 30_000, 1.00, 10, 22),
    ]
    found = sorted(
        (p.kind, p.structure, p.n_prints) for p in packets(run(quoted(a, b, other) + trades))
    )
    assert found == [("multi_leg", "vertical", 2), ("single", "", 1)]


def test_condor_four_strikes_one_to_one_and_ratio_spread_unequal_sizes() -> None:
    strikes = (245.0, 250.0, 255.0, 260.0)
    legs = [Contract(i + 1, k) for i, k in enumerate(strikes)]
    prices = (1.10, 1.00, 1.00, 1.10)
    condor = multi_leg(*[(c, px_, 10) for c, px_ in zip(legs, prices, strict=True)])
    assert (condor.structure, [leg.ratio for leg in condor.legs]) == ("condor", [1, 1, 1, 1])
    low, high = Contract(1, 250.0), Contract(2, 255.0)
    ratio = multi_leg((low, 1.10, 10), (high, 1.00, 20))
    assert (ratio.structure, [leg.ratio for leg in ratio.legs]) == ("ratio_spread", [1, 2])


def test_a_butterfly_is_not_cut_into_verticals_whatever_the_order_of_its_legs() -> None:
    low, mid, high = Contract(1, 245.0), Contract(2, 250.0), Contract(3, 255.0)
    trades = [
        mid.trade(T0, 1.00, 20, 22),
        high.trade(T0 + 30_000, 1.10, 10, 22),
        low.trade(T0 + 90_000, 1.10, 10, 22),
    ]
    [packet] = packets(run(quoted(low, mid, high) + trades))
    assert (packet.structure, sorted(leg.ratio for leg in packet.legs)) == ("butterfly", [1, 1, 2])
