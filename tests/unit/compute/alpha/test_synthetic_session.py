"""A synthetic CME session (`synth.cme`: CL books and trades, LO options priced from a known
smile, quiet windows) written as GLBX DBN files, read back through the Databento ingest, and
its frames checked against the session's labels: rr25 and ATM vol within 0.15 vol points and
the forward within one tick at every healthy frame, the front future's mid exact, the chain
stale within two frames of each quiet window's start and healthy again after it."""

from __future__ import annotations

import pytest

from compute.alpha import AlphaConfig, finish, initial_state, step
from ingest.databento import RecordNormaliser, iter_file_events
from schemas.cme import AlphaFrame
from schemas.events import Event
from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig
from synth.cme_labels import CmeSecondLabel

SECOND = 1_000_000_000
TICK = 10_000_000


@pytest.fixture(scope="module")
def session_frames(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[list[AlphaFrame], dict[int, CmeSecondLabel], list[tuple[int, int]]]:
    session = generate_cme_session(CmeConfig(seed=11, minutes=3, quiet_windows=[(60, 20)]))
    folder = tmp_path_factory.mktemp("cme")
    files = [p for p in write_cme_session(session, folder) if p.name.endswith(".dbn.zst")]
    events: list[Event] = list(
        iter_file_events(files, normaliser=RecordNormaliser(emit_books=True))
    )
    state, out = step(initial_state(AlphaConfig(rate=session.truth.rate), "synth"), events)
    out += finish(state)[1]
    frames = [frame for frame in out if isinstance(frame, AlphaFrame)]
    assert len(frames) == len(out)
    labels = {label.ts: label for label in session.labels}
    return [f for f in frames if f.ts_recv in labels], labels, session.quiet


def test_every_healthy_frame_matches_the_planted_smile(
    session_frames: tuple[list[AlphaFrame], dict[int, CmeSecondLabel], list[tuple[int, int]]],
) -> None:
    frames, labels, _ = session_frames
    healthy = [frame for frame in frames if frame.health == "ok"]
    assert len(healthy) >= 3 * 60 - 25
    for frame in healthy:
        label = labels[frame.ts_recv]
        assert frame.rr25 is not None and frame.atm_iv is not None, frame
        assert abs(frame.rr25 - label.rr25) <= 0.15, (frame, label)
        assert abs(frame.atm_iv - label.atm_iv) * 100 <= 0.15, (frame, label)
        assert (frame.front_symbol, frame.cme_fwd_mid) == (label.front_symbol, label.cme_fwd_mid)
        for computed, truth in zip(frame.expiries, label.expiries, strict=True):
            assert computed.underlying_symbol == truth.underlying_symbol
            assert computed.forward is not None and abs(computed.forward - truth.forward) <= TICK
        assert label.iv_term_slope is not None and frame.iv_term_slope is not None
        assert abs(frame.iv_term_slope - label.iv_term_slope) * 100 <= 0.3


def test_each_quiet_window_is_stale_within_two_frames_and_healthy_after(
    session_frames: tuple[list[AlphaFrame], dict[int, CmeSecondLabel], list[tuple[int, int]]],
) -> None:
    frames, _, quiet = session_frames
    ((start, end),) = quiet
    for frame in frames:
        if start + SECOND <= frame.ts_recv <= end:
            # the frame at `start` holds the changes just before it; the next one is stale
            assert frame.health == "stale_chain", frame
            assert frame.health_reason.startswith("quiet: "), frame
        elif frame.ts_recv > frames[0].ts_recv + 2 * SECOND:
            assert (frame.health, frame.health_reason) == ("ok", ""), frame
