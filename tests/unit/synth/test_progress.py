from __future__ import annotations

from pathlib import Path

from synth import SynthConfig, SyntheticSession
from synth.session import GENERATION_STEPS, LABELS_FILE, generate_session, write_session

SMALL = SynthConfig(seed=3, minutes=1, n_underlyings=2, planted_per_kind=1)


class Recorder:
    def __init__(self) -> None:
        self.reports: list[tuple[str, int, int]] = []

    def __call__(self, what: str, done: int, total: int) -> None:
        self.reports.append((what, done, total))


def test_generation_reports_every_step_in_order_and_ends_with_all_done() -> None:
    recorder = Recorder()
    generate_session(SMALL, progress=recorder)
    total = len(GENERATION_STEPS)
    assert [what for what, _, _ in recorder.reports[:total]] == list(GENERATION_STEPS)
    assert [done for _, done, _ in recorder.reports] == list(range(total + 1))
    assert {t for _, _, t in recorder.reports} == {total}


def test_writing_reports_each_file_and_reaches_the_records_total(
    session: SyntheticSession, tmp_path: Path
) -> None:
    recorder = Recorder()
    paths = write_session(session, tmp_path, progress=recorder)
    records = sum(len(f.records) for f in session.files.values()) + len(session.labels)
    done = [d for _, d, _ in recorder.reports]
    assert {t for _, _, t in recorder.reports} == {records}
    assert done == sorted(done)
    assert done[0] == 0 and done[-1] == records
    named = {what for what, _, _ in recorder.reports}
    assert {f.file_name(session.date) for f in session.files.values()} | {LABELS_FILE} <= named
    assert named <= {p.name for p in paths}


def test_a_session_generated_without_a_watcher_is_the_same_bytes() -> None:
    watched = generate_session(SMALL, progress=Recorder())
    unwatched = generate_session(SMALL)
    assert all(
        watched.files[key].records.tobytes() == unwatched.files[key].records.tobytes()
        for key in unwatched.files
    )
