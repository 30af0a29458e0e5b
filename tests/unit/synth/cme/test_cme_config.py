"""What the CME market accepts, and the calendar it lists."""

from __future__ import annotations

import datetime as dt

import pytest

from synth.cme_config import CmeConfig
from synth.cme_instruments import future_termination, list_futures, option_expiry


@pytest.mark.parametrize(
    ("config", "message"),
    [
        (CmeConfig(date="20250220"), "date must be YYYY-MM-DD"),
        (CmeConfig(start="9:30"), "start must be HH:MM"),
        (CmeConfig(minutes=0), "minutes must be 1..1440"),
        (CmeConfig(n_futures=2, n_expiries=3), "n_expiries must be 1..n_futures"),
        (CmeConfig(strike_step=0.333), "strike_step must be a positive multiple of 0.01"),
        (CmeConfig(minutes=2, quiet_windows=[(100, 30)]), "must start after the open"),
        (CmeConfig(quiet_windows=[(60, 30), (80, 10)]), "overlaps the one before it"),
        (CmeConfig(trade_share=1.5), "trade_share must be 0..1"),
    ],
)
def test_a_config_out_of_range_is_refused_naming_its_field(config: CmeConfig, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        config.validate()


def test_the_default_quiet_window_is_thirty_seconds_halfway_through() -> None:
    assert CmeConfig(minutes=10).windows() == [(300, 30)]
    assert CmeConfig(minutes=10, quiet_windows=[]).windows() == []


def test_cl_terminates_three_business_days_before_the_25th_of_the_month_before() -> None:
    # CLH5: 25 Feb 2025 is a Tuesday -> Thursday 20 Feb
    assert future_termination(2025, 3) == dt.date(2025, 2, 20)
    # CLG5: 25 Jan 2025 is a Saturday -> Friday 24th, then three back -> Tuesday 21 Jan
    assert future_termination(2025, 2) == dt.date(2025, 1, 21)
    # CLV5: 25 Sep 2025 is a Thursday -> Monday 22 Sep; LOV5 the business day before: Friday
    assert future_termination(2025, 10) == dt.date(2025, 9, 22)
    assert option_expiry(2025, 10) == dt.date(2025, 9, 19)


def test_the_front_month_is_the_first_whose_options_have_a_week_left() -> None:
    # on 20 Feb 2025 CLH5 terminates that day; LOJ5 expires 19 Mar, 27 days on
    assert [f.symbol for f in list_futures(dt.date(2025, 2, 20), 3)] == ["CLJ5", "CLK5", "CLM5"]
    # on 13 Mar 2025 LOJ5 has 6 days left, so the chain starts at CLK5
    assert list_futures(dt.date(2025, 3, 13), 1)[0].symbol == "CLK5"
