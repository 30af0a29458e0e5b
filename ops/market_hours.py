"""When a source's market is open, so that silence outside its hours is not stale data.

- `us_equities` (OPRA options, US equities): NYSE regular sessions, 09:30–16:00 New York
  on trading days, 13:00 on early-close days (exchange_calendars' XNYS: holidays, half days
  and ad-hoc closures);
- `cme_globex`: Globex, Sunday 18:00 to Friday 17:00 New York with the daily 17:00–18:00
  break, less CME's holidays and early closes (exchange_calendars' CMES sessions, which
  open at 17:00 Chicago = 18:00 New York);
- `always` (crypto): every moment.
"""

from __future__ import annotations

import math
import warnings
from datetime import UTC, datetime, time
from functools import lru_cache
from typing import Literal
from zoneinfo import ZoneInfo

import exchange_calendars
import pandas as pd
from exchange_calendars import ExchangeCalendar

MarketHours = Literal["always", "us_equities", "cme_globex"]
MARKET_HOURS: tuple[MarketHours, ...] = ("always", "us_equities", "cme_globex")

NEW_YORK = ZoneInfo("America/New_York")
_GLOBEX_BREAK = (time(17), time(18))  # New York
_CALENDARS = {"us_equities": "XNYS", "cme_globex": "CMES"}


@lru_cache(maxsize=8)
def _calendar(name: str, year: int) -> ExchangeCalendar:
    # Built per year with a year either side: any moment of `year` lies within its bounds.
    return exchange_calendars.get_calendar(name, start=f"{year - 1}-01-01", end=f"{year + 1}-12-31")


def open_since(hours: MarketHours, at: float) -> float | None:
    """When the open period holding `at` (epoch seconds) began: -inf for `always`, None
    when the market is closed at `at`."""
    if hours == "always":
        return -math.inf
    moment = pd.Timestamp(at, unit="s", tz=UTC)
    if hours == "cme_globex":
        local = datetime.fromtimestamp(at, NEW_YORK).time()
        if _GLOBEX_BREAK[0] <= local < _GLOBEX_BREAK[1]:
            return None
    with warnings.catch_warnings():
        # exchange_calendars 4.13 reads `.values` of tz-aware pandas data (its own code)
        warnings.filterwarnings("ignore", message=".*drops timezone information.*")
        calendar = _calendar(_CALENDARS[hours], moment.year)
        if not calendar.is_open_at_time(moment):
            return None
        session = calendar.minute_to_session(moment.floor("min"), direction="none")
        return float(calendar.session_open(session).timestamp())
