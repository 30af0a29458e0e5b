"""Accuracy on the hard synthetic tape (`synth --hard`), on both replay paths, from seeds
never used while building the tape or tuning the engine.

The hard tape stamps the legs of one complex order up to 100 µs apart in any order, fills
each leg on its own side of the mid, sweeps legs across venues, prints unrelated contracts of
the same underlying on other venues and other underlyings on the same venue around each
order, puts distractor prints of a sweep's contract a second or so around it, moves quotes
within a millisecond of prints and leaves a third of the contracts quiet for many seconds.
Its `sides.jsonl` gives the true side of almost every print, so side accuracy covers the
whole tape; a print left without a side counts as wrong.
"""

from __future__ import annotations

import pytest

from analytics.run_outputs import RunOutputs
from analytics.scoring import Score, score_run
from schemas.labels import PrintSide
from synth import generate_session, hard_config
from tests.kit.paths import run_engine, tcbbo_events, trades_and_cmbp1

SEEDS = (90_417, 73_901)
STRUCTURES = (
    "vertical", "straddle", "strangle", "butterfly", "condor", "ladder", "ratio_spread",
    "calendar", "risk_reversal",
)  # fmt: skip
PATHS = {"tcbbo": tcbbo_events, "trades+cmbp-1": trades_and_cmbp1}
KIND_BAR = 0.97
STRUCTURE_BAR = 0.95
SIDE_BAR = 0.98


@pytest.fixture(scope="module", params=[(seed, path) for seed in SEEDS for path in PATHS],
                ids=lambda p: f"{p[0]}-{p[1]}")  # fmt: skip
def score(request: pytest.FixtureRequest) -> Score:
    seed, path = request.param
    session = generate_session(hard_config(seed))
    sides: list[PrintSide] = session.sides or []
    outputs = RunOutputs.from_events(run_engine(PATHS[path](session)))
    return score_run(session.labels, outputs, sides)


def test_sweeps_splits_blocks_and_golden_sweeps_hold_97_percent(score: Score) -> None:
    for name in ("sweep", "split", "block"):
        found = score.kinds[name]
        assert found.planted >= 50, name
        assert found.precision >= KIND_BAR and found.recall >= KIND_BAR, (name, found)
    golden = score.rules["golden_sweep"]
    assert golden.planted >= 50
    assert golden.precision >= KIND_BAR and golden.recall >= KIND_BAR, golden


def test_each_structure_is_found_whole_with_95_percent_precision_and_recall(score: Score) -> None:
    for structure in STRUCTURES:
        found = score.structures[structure]
        assert found.planted >= 50, structure
        assert found.precision >= STRUCTURE_BAR, (structure, found)
        assert found.recall >= STRUCTURE_BAR, (structure, found)


def test_side_is_right_on_98_percent_of_all_prints_with_a_known_side(score: Score) -> None:
    assert score.sides.prints >= 20_000
    assert score.sides.accuracy >= SIDE_BAR, score.sides
