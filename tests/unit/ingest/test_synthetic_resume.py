"""The synthetic live market told where the log stands moves to the next session day."""

from __future__ import annotations

import datetime as dt

from ingest.service import ResumableSource
from ingest.synthetic.source import SyntheticSource, session_after
from synth.config import SynthConfig
from synth.session import first_record_ns, generate_session
from synth.universe import NEW_YORK, NS


def ns_at(day: str, hour: int, minute: int = 0) -> int:
    date = dt.date.fromisoformat(day)
    moment = dt.datetime(date.year, date.month, date.day, hour, minute, tzinfo=NEW_YORK)
    return int(moment.timestamp()) * NS


def test_a_session_wholly_after_the_mark_is_kept() -> None:
    config = SynthConfig(date="2025-02-20")
    assert session_after(config, ns_at("2025-02-19", 16)) is config


def test_a_mark_inside_the_session_moves_it_to_the_next_day() -> None:
    config = SynthConfig(date="2025-02-19")  # a Wednesday
    moved = session_after(config, ns_at("2025-02-19", 9, 31))
    assert moved.date == "2025-02-20"
    assert moved.seed == config.seed and moved.minutes == config.minutes


def test_a_mark_on_friday_moves_the_session_to_monday() -> None:
    moved = session_after(SynthConfig(date="2025-02-21"), ns_at("2025-02-21", 15, 59))
    assert moved.date == "2025-02-24"


def test_a_session_running_past_midnight_moves_past_the_marks_next_morning() -> None:
    long_session = SynthConfig(date="2025-02-18", minutes=24 * 60)  # ends 09:30 the next day
    moved = session_after(long_session, ns_at("2025-02-19", 9, 0))
    assert moved.date == "2025-02-20"
    assert first_record_ns(moved) > ns_at("2025-02-19", 9, 0)


def test_resuming_replaces_a_session_the_log_already_holds() -> None:
    config = SynthConfig(seed=3, minutes=1, n_underlyings=2)
    session = generate_session(config)
    source = SyntheticSource(session=session, speed=0)
    assert isinstance(source, ResumableSource)
    source.resume_after(session.close_ns)
    assert source.session is None and source.config.date == "2025-02-21"
