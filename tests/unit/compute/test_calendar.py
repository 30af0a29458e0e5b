"""The engine's own NYSE calendar agrees with exchange_calendars; New York dates follow DST."""

from __future__ import annotations

import datetime as dt

import exchange_calendars
import pytest

from compute.calendar import (
    from_ymd,
    is_trading_day,
    new_york_date,
    new_york_day_bounds,
    trading_days_to,
    ymd,
)


@pytest.mark.filterwarnings("ignore:Series.values")
def test_trading_days_match_exchange_calendars_xnys_2006_to_2030() -> None:
    calendar = exchange_calendars.get_calendar("XNYS", start="2006-01-01", end="2030-12-31")
    expected = {ymd(s.date()) for s in calendar.sessions}
    day, end = dt.date(2006, 1, 1), dt.date(2030, 12, 31)
    ours = set()
    while day <= end:
        if is_trading_day(ymd(day)):
            ours.add(ymd(day))
        day += dt.timedelta(days=1)
    assert ours - expected == set()
    assert expected - ours == set()


def test_new_york_date_switches_at_local_midnight_in_winter_and_summer() -> None:
    winter_midnight = int(dt.datetime(2025, 2, 21, 5, tzinfo=dt.UTC).timestamp()) * 10**9
    assert new_york_date(winter_midnight - 1) == 20250220
    assert new_york_date(winter_midnight) == 20250221
    summer_midnight = int(dt.datetime(2025, 7, 1, 4, tzinfo=dt.UTC).timestamp()) * 10**9
    assert new_york_date(summer_midnight - 1) == 20250630
    assert new_york_date(summer_midnight) == 20250701
    day, begin, end = new_york_day_bounds(summer_midnight + 5)
    assert (day, begin, end) == (20250701, summer_midnight, summer_midnight + 86_400 * 10**9)


def test_days_to_expiry_count_sessions_after_the_trade_date() -> None:
    assert trading_days_to(20250221, 20250221) == 0  # 0DTE
    assert trading_days_to(20250220, 20250221) == 1
    assert trading_days_to(20250214, 20250218) == 1  # Presidents' Day Monday skipped
    assert trading_days_to(20250417, 20250421) == 1  # Good Friday skipped
    assert trading_days_to(20250221, 20250220) == -1
    assert from_ymd(20250221) == dt.date(2025, 2, 21)
