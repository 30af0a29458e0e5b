"""What a replay's progress measures: the span of receive times its events cover, and a
print file cut short, which the replay reads up to its cut and reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from replay.sources import SessionSpan, dbn_events
from replay.window import REFERENCE
from schemas.events import Quarantined
from synth.config import SynthConfig
from synth.session import generate_session, write_session


@pytest.fixture(scope="module")
def session_files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    folder = tmp_path_factory.mktemp("span")
    config = SynthConfig(minutes=2, n_underlyings=3)
    return [p for p in write_session(generate_session(config), folder) if p.name.endswith(".zst")]


def test_the_span_runs_from_the_first_to_the_last_market_event_of_every_file(
    session_files: list[Path],
) -> None:
    events, span = dbn_events(session_files)
    market = [e.ts_recv for e in events if not isinstance(e, REFERENCE)]
    # quotes from files the prints are not taken from count too (they once went uncounted,
    # leaving the bar full long before the end)
    assert span == SessionSpan(min(market), max(market))


def test_a_window_narrows_the_span() -> None:
    span = SessionSpan(100, 200)
    assert span.within(150, None) == SessionSpan(150, 200)
    assert span.within(None, 120) == SessionSpan(100, 120)
    assert span.within(300, None) == SessionSpan(0, 0)


def test_a_print_file_cut_short_ends_in_a_truncation_with_the_count_read(
    session_files: list[Path], tmp_path: Path
) -> None:
    tcbbo = next(p for p in session_files if p.name.endswith(".tcbbo.dbn.zst"))
    definition = next(p for p in session_files if p.name.endswith(".definition.dbn.zst"))
    cut = tmp_path / tcbbo.name
    cut.write_bytes(tcbbo.read_bytes()[: tcbbo.stat().st_size // 2])
    events, _ = dbn_events([definition, cut])
    quarantined = [e for e in events if isinstance(e, Quarantined)]
    assert [e.reason for e in quarantined] == ["truncated_dbn"]
    assert cut.name in quarantined[0].detail and "truncated after" in quarantined[0].detail
