"""Dark-pool inference on off-exchange equity prints."""

from __future__ import annotations

from compute.flow import EngineConfig
from schemas.events import DarkPoolEvent, Event
from tests.unit.compute.flow.session import (
    SECOND,
    T0,
    equity_print,
    equity_quote,
    heartbeat,
    px,
    run,
)


def dark_events(out: list[Event]) -> list[DarkPoolEvent]:
    return [e for e in out if isinstance(e, DarkPoolEvent)]


def test_large_off_exchange_print_without_price_impact_is_an_absorbed_block() -> None:
    events: list[Event] = [equity_quote(T0, 100.00, 100.02)]
    events.append(equity_print(T0 + SECOND, 100.01, 20_000, off_exchange=True))
    events += [equity_quote(T0 + k * 10 * SECOND, 100.01, 100.03) for k in range(1, 6)]
    events.append(heartbeat(T0 + 62 * SECOND))
    [event] = dark_events(run(events, close=False))
    assert (event.kind, event.size, event.n_prints) == ("absorbed_block", 20_000, 1)
    assert event.notional_cents == 200_020_000
    assert event.price_impact_bps is not None and event.price_impact_bps <= 2
    assert event.quotes[0].ask_px == px(100.02)  # the lit quote it was measured against
    assert event.prints[0].side == "unknown"
    assert "no aggressor side" in event.caveats


def test_large_off_exchange_print_followed_by_a_price_move_is_not_absorbed() -> None:
    events: list[Event] = [equity_quote(T0, 100.00, 100.02)]
    events.append(equity_print(T0 + SECOND, 100.01, 20_000, off_exchange=True))
    events.append(equity_quote(T0 + 30 * SECOND, 101.00, 101.02))  # +1 %
    assert dark_events(run([*events, heartbeat(T0 + 62 * SECOND)])) == []


def episode(direction: int) -> list[Event]:
    events: list[Event] = []
    mid = 50.00
    for k in range(12):
        t = T0 + k * 10 * SECOND
        events.append(equity_quote(t, mid - 0.01, mid + 0.01))
        price = mid + 0.01 * direction  # at the touch on the patient side
        events.append(equity_print(t + SECOND, price, 3_000, off_exchange=True, symbol="AAPL"))
        mid += 0.01 * direction
    events.append(equity_quote(T0 + 200 * SECOND, mid - 0.01, mid + 0.01))
    return events


def test_many_mid_size_prints_above_mid_while_price_rises_are_stealth_accumulation() -> None:
    config = EngineConfig()
    out = run([*episode(+1), heartbeat(T0 + 400 * SECOND)], config, close=False)
    [event] = dark_events(out)
    assert (event.kind, event.n_prints, event.size) == ("stealth_accumulation", 12, 36_000)
    assert event.price_impact_bps is not None and event.price_impact_bps > 5
    assert event.ts_end - event.ts_start == 110 * SECOND
    assert "never observed" in event.caveats


def test_the_mirror_pattern_is_distribution() -> None:
    [event] = dark_events(run([*episode(-1), heartbeat(T0 + 400 * SECOND)]))
    assert event.kind == "distribution"
    assert event.price_impact_bps is not None and event.price_impact_bps < -5


def test_block_without_any_lit_reference_is_counted_not_guessed() -> None:
    out = run([equity_print(T0, 100.00, 50_000, off_exchange=True), heartbeat(T0 + 90 * SECOND)])
    assert dark_events(out) == []
