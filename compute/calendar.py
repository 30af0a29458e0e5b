"""New York dates and the NYSE trading calendar, as pure functions of integers.

Why an own table instead of `exchange_calendars`: that package pulls pandas into the engine,
its answers depend on the installed version's data and on the window it was built with,
and a lookup costs microseconds. The rules below (holiday rules, weekend observance, the
ad-hoc closures) are a few lines, cost nothing at run time, and a unit test checks them
against `exchange_calendars`' XNYS sessions over two decades. The US DST rule in force since
2007 turns UTC nanoseconds into the New York date without the system's tz database.
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

NS_PER_DAY = 86_400_000_000_000
NS_PER_HOUR = 3_600_000_000_000
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()

# Closures by proclamation or disaster (not derivable from rules).
_AD_HOC_CLOSURES: frozenset[int] = frozenset(
    {
        20010911,
        20010912,
        20010913,
        20010914,
        20040611,  # President Reagan
        20070102,  # President Ford
        20121029,  # Hurricane Sandy
        20121030,
        20181205,  # President G. H. W. Bush
        20250109,  # President Carter
    }
)


def ymd(day: dt.date) -> int:
    """A date as the integer YYYYMMDD."""
    return day.year * 10_000 + day.month * 100 + day.day


def from_ymd(value: int) -> dt.date:
    """The date of an integer YYYYMMDD."""
    return dt.date(value // 10_000, value // 100 % 100, value % 100)


def _nth_weekday(year: int, month: int, weekday: int, n: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (weekday - first.weekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (n - 1))


def _last_weekday(year: int, month: int, weekday: int) -> dt.date:
    nxt = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = nxt - dt.timedelta(days=1)
    return last - dt.timedelta(days=(last.weekday() - weekday) % 7)


def _easter(year: int) -> dt.date:
    # Anonymous Gregorian algorithm (Meeus/Jones/Butcher).
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    m = (32 + 2 * e + 2 * i - h - k) % 7
    n = (a + 11 * h + 22 * m) // 451
    month, day = divmod(h + m - 7 * n + 114, 31)
    return dt.date(year, month, day + 1)


def _observed(day: dt.date) -> dt.date | None:
    if day.weekday() == 5:
        # NYSE does not close on the Friday before a Saturday New Year's Day.
        if day.month == 1 and day.day == 1:
            return None
        return day - dt.timedelta(days=1)
    if day.weekday() == 6:
        return day + dt.timedelta(days=1)
    return day


@lru_cache(maxsize=64)
def nyse_holidays(year: int) -> frozenset[int]:
    """Full-day NYSE closures of `year` as YYYYMMDD (weekends excluded)."""
    fixed = [dt.date(year, 1, 1), dt.date(year, 7, 4), dt.date(year, 12, 25)]
    if year >= 2022:
        fixed.append(dt.date(year, 6, 19))
    days = [d for d in (_observed(x) for x in fixed) if d is not None]
    days += [
        _nth_weekday(year, 1, 0, 3),  # Martin Luther King Jr. Day
        _nth_weekday(year, 2, 0, 3),  # Washington's Birthday
        _easter(year) - dt.timedelta(days=2),  # Good Friday
        _last_weekday(year, 5, 0),  # Memorial Day
        _nth_weekday(year, 9, 0, 1),  # Labor Day
        _nth_weekday(year, 11, 3, 4),  # Thanksgiving
    ]
    closures = {ymd(d) for d in days}
    closures |= {d for d in _AD_HOC_CLOSURES if d // 10_000 == year}
    return frozenset(closures)


def is_trading_day(value: int) -> bool:
    """Whether YYYYMMDD is an NYSE session."""
    day = from_ymd(value)
    return day.weekday() < 5 and value not in nyse_holidays(day.year)


def _dst_bounds_utc_ns(year: int) -> tuple[int, int]:
    # Since 2007: 2:00 local on the second Sunday of March (07:00 UTC) to 2:00 local on the
    # first Sunday of November (06:00 UTC).
    start = _nth_weekday(year, 3, 6, 2).toordinal() - _EPOCH_ORDINAL
    end = _nth_weekday(year, 11, 6, 1).toordinal() - _EPOCH_ORDINAL
    return start * NS_PER_DAY + 7 * NS_PER_HOUR, end * NS_PER_DAY + 6 * NS_PER_HOUR


def new_york_day_bounds(ts_ns: int) -> tuple[int, int, int]:
    """(YYYYMMDD, first ns, first ns of the next day) of the New York day holding `ts_ns`."""
    utc_day = dt.date.fromordinal(ts_ns // NS_PER_DAY + _EPOCH_ORDINAL)
    start_dst, end_dst = _dst_bounds_utc_ns(utc_day.year)
    offset = -4 * NS_PER_HOUR if start_dst <= ts_ns < end_dst else -5 * NS_PER_HOUR
    local = ts_ns + offset
    local_day = local // NS_PER_DAY
    begin = local_day * NS_PER_DAY - offset
    end = begin + NS_PER_DAY
    # A day that contains a DST switch is 23 or 25 hours long; those are Sundays, never
    # trading days, so the bounds only need to be right about which day it is.
    return ymd(dt.date.fromordinal(local_day + _EPOCH_ORDINAL)), begin, end


def new_york_date(ts_ns: int) -> int:
    """The New York calendar date (YYYYMMDD) of a UTC nanosecond timestamp."""
    return new_york_day_bounds(ts_ns)[0]


@lru_cache(maxsize=4096)
def trading_days_to(trade_date: int, expiration_date: int) -> int:
    """Sessions after `trade_date` up to and including `expiration_date` (0: expires today).

    Negative when the expiration lies in the past (counted the same way backwards).
    """
    if expiration_date == trade_date:
        return 0
    if expiration_date < trade_date:
        return -trading_days_to(expiration_date, trade_date)
    day = from_ymd(trade_date)
    end = from_ymd(expiration_date)
    count = 0
    while day < end:
        day += dt.timedelta(days=1)
        if day.weekday() < 5 and ymd(day) not in nyse_holidays(day.year):
            count += 1
    return count
