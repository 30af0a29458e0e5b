from __future__ import annotations

import asyncio
import io
from collections import Counter

from rich.console import Console

from cli.ingest import _run_shown, show_counts
from cli.progress import Meter
from cli.replay import _ReplayBar
from cli.synth import _shown_on
from ingest.service import IngestMetrics
from replay.sources import SessionSpan

NS = 1_000_000_000


def _terminal() -> Console:
    return Console(file=io.StringIO(), force_terminal=True, width=200, color_system=None)


def _screen(console: Console) -> str:
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()


def test_a_counted_phase_shows_done_of_total() -> None:
    console = _terminal()
    with Meter("write", "records", console=console) as meter:
        meter.start(10)
        meter.update(4)
        meter.update(10)
    assert "100%  10 of 10 records" in _screen(console)


def test_a_phase_that_stops_short_is_not_shown_whole() -> None:
    console = _terminal()
    with Meter("write", "records", console=console) as meter:
        meter.start(10)
        meter.update(4)
    screen = _screen(console)
    assert "40%  4 of 10 records" in screen
    assert "100%" not in screen


def test_an_indeterminate_phase_that_ends_is_whole_at_its_count() -> None:
    console = _terminal()
    with Meter("ingest", "events", console=console) as meter:
        meter.start(None)
        meter.update(7)
    assert "100%  7 events" in _screen(console)


def test_an_unknown_total_shows_the_count_and_its_rate() -> None:
    console = _terminal()
    with Meter("ingest", "events", console=console) as meter:
        meter.start(None)
        meter.update(1234)
    screen = _screen(console)
    assert "1,234 events" in screen
    assert "events/s" in screen
    assert " of " not in screen


def test_nothing_is_drawn_when_the_output_is_not_a_terminal() -> None:
    console = Console(file=io.StringIO())
    with Meter("replay", "events", console=console) as meter:
        meter.start(5)
        meter.update(5)
        meter.note("a note still shows")
    assert _screen(console) == "a note still shows\n"


def test_the_replay_bar_shows_a_download_in_kilobytes() -> None:
    console = _terminal()
    with Meter("replay", "events", console=console) as meter:
        bar = _ReplayBar(meter)
        bar.downloading("trades", 5_000)
        bar.downloading("trades", 12_000)
    screen = _screen(console)
    assert "download trades" in screen
    assert "12 kB" in screen


def test_the_replay_bar_measures_session_time_and_counts_events() -> None:
    console = _terminal()
    with Meter("replay", "events", console=console) as meter:
        bar = _ReplayBar(meter)
        bar.downloading("trades", 12_000)
        bar.begin(SessionSpan(100 * NS, 200 * NS))
        bar.advance(700, 150 * NS)
        bar.advance(300, 200 * NS)
    screen = _screen(console)
    assert "100%" in screen
    assert "1,000 events" in screen
    assert "00:03:20 of 00:03:20 UTC" in screen


def test_the_replay_bar_stopped_midway_shows_where_it_stopped() -> None:
    console = _terminal()
    with Meter("replay", "events", console=console) as meter:
        bar = _ReplayBar(meter)
        bar.begin(SessionSpan(100 * NS, 200 * NS))
        bar.advance(700, 150 * NS)
    screen = _screen(console)
    assert "50%" in screen
    assert "700 events" in screen


def test_synth_reports_start_the_bar_once_and_reach_its_total() -> None:
    console = _terminal()
    with Meter("generate", "steps", paced=False, console=console) as meter:
        report = _shown_on(meter)
        report("universe", 0, 3)
        report("paths", 1, 3)
        report("labels", 3, 3)
    assert "3 of 3 steps" in _screen(console)


class _FakeService:
    def __init__(self) -> None:
        self.metrics = IngestMetrics()

    async def run(self) -> IngestMetrics:
        for _ in range(3):
            self.metrics.events["OptionPrint"] += 500
            self.metrics.published_messages += 2
            await asyncio.sleep(0)
        return self.metrics


def test_ingest_shows_the_services_counts_to_the_end() -> None:
    console = _terminal()
    service = _FakeService()
    with Meter("ingest", "events", console=console) as meter:
        metrics = asyncio.run(_run_shown(service, meter))  # type: ignore[arg-type]
    assert sum(metrics.events.values()) == 1_500
    screen = _screen(console)
    assert "1,500 events" in screen
    assert "6 messages published" in screen


def test_show_counts_adds_every_event_type() -> None:
    console = _terminal()
    metrics = IngestMetrics(events=Counter({"OptionPrint": 3, "OptionQuote": 4}))
    with Meter("ingest", "events", console=console) as meter:
        meter.start(None)
        show_counts(metrics, meter)
    assert "7 events" in _screen(console)
