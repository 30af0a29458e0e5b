"""Accuracy against the synthetic market's ground truth (a seed never used for tuning).

The figures come from `analytics.scoring`, the code behind `flowtape score` (its docstring
says how each is counted). Dark-pool inferences are heuristics with a lower bar (recall 0.8,
precision 0.9): an absorbed block is missed when ordinary noise moves the lit mid more than
the impact threshold within the minute after it.
"""

from __future__ import annotations

import bisect
from collections import defaultdict

import pytest

from analytics.run_outputs import PrintKey, RunOutputs
from analytics.scoring import Score, score_run, side_accuracy, true_sides
from schemas.events import DarkPoolEvent, Event, OptionPrint, OptionQuote
from synth import SynthConfig, SyntheticSession, generate_session
from tests.kit.paths import run_engine, tcbbo_events, trades_and_cmbp1

SEED = 20_261_121  # never used while tuning (tuning used 123)
BAR = 0.95
STRUCTURES = (
    "vertical", "straddle", "strangle", "butterfly", "calendar", "ladder", "risk_reversal",
)  # fmt: skip


def key(m: object) -> PrintKey:
    return (m.instrument_id, m.publisher_id, m.ts_event, m.sequence)  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def session() -> SyntheticSession:
    return generate_session(SynthConfig(seed=SEED, minutes=20, planted_per_kind=16))


@pytest.fixture(scope="module")
def tcbbo_outputs(session: SyntheticSession) -> list[Event]:
    return run_engine(tcbbo_events(session))


@pytest.fixture(scope="module")
def tcbbo_score(session: SyntheticSession, tcbbo_outputs: list[Event]) -> Score:
    return score_run(session.labels, RunOutputs.from_events(tcbbo_outputs))


@pytest.mark.parametrize("kind", ["sweep", "split", "block"])
def test_sweeps_splits_and_blocks_are_found_with_precision_and_recall_over_95_percent(
    tcbbo_score: Score, kind: str
) -> None:
    found = tcbbo_score.kinds[kind]
    assert found.planted >= 10
    assert found.precision >= BAR and found.recall >= BAR, found


@pytest.mark.parametrize("structure", STRUCTURES)
def test_each_multi_leg_structure_is_found_with_precision_and_recall_over_95_percent(
    tcbbo_score: Score, structure: str
) -> None:
    found = tcbbo_score.structures[structure]
    assert found.planted >= 1
    assert found.precision >= BAR and found.recall >= BAR, found


@pytest.mark.parametrize("rule", ["golden_sweep", "repeated_hits"])
def test_golden_sweeps_and_repeated_hits_are_flagged_with_precision_and_recall_over_95_percent(
    tcbbo_score: Score, rule: str
) -> None:
    flagged = tcbbo_score.rules[rule]
    assert flagged.planted >= 10
    assert flagged.precision >= BAR and flagged.recall >= BAR, flagged


# ---------------------------------------------------------------- side on trades + cmbp-1


def quote_rule(price: int, bid: int | None, ask: int | None) -> str:
    if bid is None or ask is None:
        return "unknown"
    return "buy" if price >= ask else "sell" if price <= bid else "unknown"


OUTSIDE_THE_QUOTES = ("AA", "A", "B", "BB")


@pytest.fixture(scope="module")
def trades_path(session: SyntheticSession) -> list[Event]:
    events = trades_and_cmbp1(session)
    assert not any(isinstance(e, OptionPrint) and e.bid_px is not None for e in events)
    return events


@pytest.fixture(scope="module")
def truth(session: SyntheticSession) -> dict[PrintKey, str]:
    """True sides of the labelled prints at or outside the quotes."""
    outside = {
        key(m) for lb in session.labels for m in lb.members if m.bucket in OUTSIDE_THE_QUOTES
    }
    return {k: side for k, side in true_sides(session.labels).items() if k in outside}


def test_inferred_side_matches_truth_on_95_percent_of_prints_at_or_outside_the_quotes(
    trades_path: list[Event], truth: dict[PrintKey, str]
) -> None:
    sides = side_accuracy(truth, RunOutputs.from_events(run_engine(trades_path)))
    assert sides.prints >= 300
    assert sides.accuracy >= BAR
    assert list(sides.by_status) == ["joined"]


def test_nearest_quote_and_stale_quote_joins_fall_below_the_bar(
    trades_path: list[Event], truth: dict[PrintKey, str]
) -> None:
    prints = [
        (e, truth[key(e)]) for e in trades_path if isinstance(e, OptionPrint) and key(e) in truth
    ]
    quotes: dict[int, list[OptionQuote]] = defaultdict(list)
    for e in trades_path:
        if isinstance(e, OptionQuote):
            quotes[e.instrument_id].append(e)
    nearest_right = stale_right = 0
    for p, side in prints:
        book = quotes[p.instrument_id]
        times = [q.ts_recv for q in book]
        i = bisect.bisect_left(times, p.ts_recv)
        around = book[max(0, i - 1) : i + 1]
        # nearest in time, before or after: may be the quote the trade itself caused
        near = min(around, key=lambda q: abs(q.ts_recv - p.ts_recv))
        nearest_right += quote_rule(p.price, near.bid_px, near.ask_px) == side
        # a book that lags by a millisecond misses quotes that moved just before the trade
        j = bisect.bisect_right(times, p.ts_recv - 1_000_000) - 1
        if j >= 0:
            stale_right += quote_rule(p.price, book[j].bid_px, book[j].ask_px) == side
    assert nearest_right / len(prints) < BAR
    assert stale_right / len(prints) < BAR


@pytest.mark.parametrize("kind", ["absorbed_block", "stealth_accumulation", "distribution"])
def test_dark_pool_patterns_are_found_with_recall_80_and_precision_90_percent(
    tcbbo_score: Score, tcbbo_outputs: list[Event], kind: str
) -> None:
    found = tcbbo_score.darkpool[kind]
    assert found.planted >= 10
    assert found.recall >= 0.8 and found.precision >= 0.9, found
    assert all(e.caveats for e in tcbbo_outputs if isinstance(e, DarkPoolEvent))
