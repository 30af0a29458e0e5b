"""Market hours at hand-picked New York moments: US equities trade 09:30–16:00 on NYSE
sessions (13:00 on half days), CME Globex from Sunday 18:00 to Friday 17:00 with a daily
17:00–18:00 break and CME's holidays, crypto always; silence counts only while open."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from ops.market_hours import MarketHours, open_since
from ops.monitor import data_silence_s
from ops.monitor_config import Source

NY = ZoneInfo("America/New_York")


def at(local: str) -> float:
    """A New York wall-clock moment as epoch seconds."""
    return datetime.fromisoformat(local).replace(tzinfo=NY).timestamp()


@pytest.mark.parametrize(
    ("moment", "equities", "globex"),
    [
        # Saturday noon: both closed
        ("2026-12-05T12:00", None, None),
        # a Friday 03:00: equities before their open; Globex since Thursday 18:00
        ("2026-12-04T03:00", None, "2026-12-03T18:00"),
        # mid-session Friday
        ("2026-12-04T10:00", "2026-12-04T09:30", "2026-12-03T18:00"),
        # the open itself, and the close (the session is [09:30, 16:00))
        ("2026-12-08T09:30", "2026-12-08T09:30", "2026-12-07T18:00"),
        ("2026-12-08T16:00", None, "2026-12-07T18:00"),
        # Thanksgiving: NYSE closed; CME trades until its 12:00 Chicago early close
        ("2026-11-26T10:00", None, "2026-11-25T18:00"),
        ("2026-11-26T13:30", None, None),
        # the day after: NYSE closes at 13:00, CME at 12:00 Chicago (13:00 New York)
        ("2026-11-27T12:30", "2026-11-27T09:30", "2026-11-26T18:00"),
        ("2026-11-27T13:30", None, None),
        # Christmas and Good Friday: both closed
        ("2026-12-25T10:00", None, None),
        ("2026-04-03T11:00", None, None),
        # Globex's daily break, Friday's close and Sunday's open
        ("2026-12-03T17:30", None, None),
        ("2026-12-04T17:30", None, None),
        ("2026-12-04T18:30", None, None),
        ("2026-12-06T17:30", None, None),
        ("2026-12-06T18:30", None, "2026-12-06T18:00"),
        ("2026-12-07T03:00", None, "2026-12-06T18:00"),
        # summer time: 09:30 EDT is 13:30 UTC
        ("2026-07-15T09:45", "2026-07-15T09:30", "2026-07-14T18:00"),
    ],
)
def test_open_since_at_hand_picked_moments(
    moment: str, equities: str | None, globex: str | None
) -> None:
    expected: dict[MarketHours, float | None] = {
        "always": -math.inf,
        "us_equities": at(equities) if equities else None,
        "cme_globex": at(globex) if globex else None,
    }
    assert {hours: open_since(hours, at(moment)) for hours in expected} == expected


def test_summer_open_is_thirteen_thirty_utc() -> None:
    opened = open_since("us_equities", at("2026-07-15T09:45"))
    assert opened == datetime.fromisoformat("2026-07-15T13:30:00+00:00").timestamp()


def test_crypto_silence_counts_every_moment() -> None:
    now = at("2026-12-05T12:00")  # a Saturday
    silence = data_silence_s(Source(hours="always", max_age_s=300), now - 400, now, now - 3600)
    assert silence == 400


def test_equities_silence_is_none_while_closed_and_counts_from_the_open() -> None:
    equities = Source(hours="us_equities", max_age_s=300)
    friday_close = at("2026-12-04T16:00")
    started = at("2026-12-01T08:00")
    for closed in ("2026-12-05T12:00", "2026-12-07T03:00", "2026-12-25T10:00"):
        assert data_silence_s(equities, friday_close, at(closed), started) is None
    assert data_silence_s(equities, friday_close, at("2026-12-07T09:31"), started) == 60
    assert data_silence_s(equities, friday_close, at("2026-12-07T09:40"), started) == 600


def test_globex_silence_counts_from_sunday_evening() -> None:
    globex = Source(hours="cme_globex", max_age_s=120)
    friday_close = at("2026-12-04T16:59")
    started = at("2026-12-01T08:00")
    assert data_silence_s(globex, friday_close, at("2026-12-06T17:59"), started) is None
    assert data_silence_s(globex, friday_close, at("2026-12-06T18:05"), started) == 300


def test_silence_counts_from_the_watch_start_when_that_is_later() -> None:
    crypto = Source(hours="always", max_age_s=60)
    now = at("2026-12-04T10:00")
    assert data_silence_s(crypto, None, now, now - 10) == 10
    assert data_silence_s(crypto, now - 30, now, now - 100) == 30
