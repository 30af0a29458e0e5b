"""The listed CME instruments of a synthetic session: CL futures and LO option chains.

Symbols follow Databento's GLBX raw symbols: a future is root, month code and the year's
last digit (`CLJ5`); an option is its future's code with the option root, a space, the right
and the strike in hundredths of a dollar (`LOJ5 C7050` is the 70.50 call on CLJ5), the style
of the real `ESM4 P5250`. Expiries follow CME's rules on weekdays (exchange holidays are
ignored): a CL future terminates three business days before the 25th of the month before
its contract month (before the business day preceding the 25th when that is no business
day); its LO option expires the business day before that, both at 14:30 New York.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import numpy as np

from schemas.events import PRICE_SCALE

NEW_YORK = ZoneInfo("America/New_York")
MONTH_CODES = "FGHJKMNQUVXZ"
FUTURE_ROOT = "CL"
OPTION_ROOT = "LO"
TICK = PRICE_SCALE // 100  # CL and LO both trade in cents per barrel
MULTIPLIER = 1_000  # barrels per contract
FIRST_FUTURE_ID = 4_012
FIRST_OPTION_ID = 42_000_000
MIN_DAYS_TO_OPTION_EXPIRY = 7  # a chain this close to expiry is no longer the front


@dataclass(frozen=True)
class Future:
    """One CL futures month: its id, symbol, contract month, listing and termination (ns)."""

    instrument_id: int
    symbol: str
    year: int
    month: int
    expiration: int
    activation: int


@dataclass(frozen=True)
class Chain:
    """The LO options of one expiry on future `future` (an index into the futures list).

    Strikes are 1e-9 dollars, ascending; `call_ids[i]`/`put_ids[i]` are the strike's options.
    """

    future: int
    expiration: int
    strikes: np.ndarray
    call_ids: np.ndarray
    put_ids: np.ndarray
    call_symbols: list[str]
    put_symbols: list[str]

    @property
    def n_options(self) -> int:
        """Calls and puts: two per strike."""
        return 2 * len(self.strikes)


def _business_days_before(day: dt.date, n: int) -> dt.date:
    while n > 0:
        day -= dt.timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def future_termination(year: int, month: int) -> dt.date:
    """Last trading day of the CL contract of `year`/`month` (weekends only, no holidays)."""
    prior_year, prior_month = (year, month - 1) if month > 1 else (year - 1, 12)
    anchor = dt.date(prior_year, prior_month, 25)
    if anchor.weekday() >= 5:
        anchor = _business_days_before(anchor, 1)
    return _business_days_before(anchor, 3)


def option_expiry(year: int, month: int) -> dt.date:
    """Expiry of the monthly LO option on the CL contract of `year`/`month`."""
    return _business_days_before(future_termination(year, month), 1)


def close_ns(day: dt.date) -> int:
    """14:30 New York on `day`, in ns since the epoch."""
    close = dt.datetime(day.year, day.month, day.day, 14, 30, tzinfo=NEW_YORK)
    return int(close.timestamp()) * 1_000_000_000


def contract_months(date: dt.date, n: int) -> list[tuple[int, int]]:
    """The first `n` contract months whose options expire at least a week after `date`."""
    year, month = date.year, date.month
    months: list[tuple[int, int]] = []
    while len(months) < n:
        if (option_expiry(year, month) - date).days >= MIN_DAYS_TO_OPTION_EXPIRY:
            months.append((year, month))
        year, month = (year, month + 1) if month < 12 else (year + 1, 1)
    return months


def month_code(year: int, month: int) -> str:
    """`J5` for April 2025."""
    return f"{MONTH_CODES[month - 1]}{year % 10}"


def list_futures(date: dt.date, n: int) -> list[Future]:
    """The first `n` CL months listed on `date`."""
    return [
        Future(
            instrument_id=FIRST_FUTURE_ID + 97 * i,
            symbol=f"{FUTURE_ROOT}{month_code(year, month)}",
            year=year,
            month=month,
            expiration=close_ns(future_termination(year, month)),
            activation=close_ns(dt.date(year - 5, month, 1)),
        )
        for i, (year, month) in enumerate(contract_months(date, n))
    ]


def strike_cents(strike: int) -> str:
    """A 1e-9 strike as it appears in an LO symbol: hundredths of a dollar."""
    return str(strike // TICK)


def chain_expiration(future: Future) -> int:
    """When the LO options on `future` expire (ns)."""
    return close_ns(option_expiry(future.year, future.month))


def list_chain(futures: list[Future], index: int, centre: int, per_side: int, step: int) -> Chain:
    """The chain on `futures[index]`: `2 * per_side + 1` strikes `step` apart around `centre`
    (all 1e-9 dollars), ids numbered after those of the chains before it."""
    future = futures[index]
    code = month_code(future.year, future.month)
    strikes = centre + step * np.arange(-per_side, per_side + 1, dtype=np.int64)
    first = FIRST_OPTION_ID + index * 1_000
    n = len(strikes)
    return Chain(
        future=index,
        expiration=chain_expiration(future),
        strikes=strikes,
        call_ids=first + 2 * np.arange(n, dtype=np.int64),
        put_ids=first + 2 * np.arange(n, dtype=np.int64) + 1,
        call_symbols=[f"{OPTION_ROOT}{code} C{strike_cents(int(k))}" for k in strikes],
        put_symbols=[f"{OPTION_ROOT}{code} P{strike_cents(int(k))}" for k in strikes],
    )
