from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from schemas.occ import parse_occ
from synth import Label, SyntheticSession, read_labels

MS = 1_000_000
AGGRESSIVE = {"sweep", "golden_sweep", "split", "repeated_hits"}


def _by_kind(labels: list[Label], *kinds: str) -> list[Label]:
    return [label for label in labels if label.kind in kinds]


def _keys(a: np.ndarray, with_sequence: bool) -> set[tuple[int, ...]]:
    cols = [a["instrument_id"], a["publisher_id"], a["ts_event"]]
    if with_sequence:
        cols.append(a["sequence"])
    return set(zip(*(c.tolist() for c in cols), strict=True))


def test_labels_file_round_trips_and_covers_every_kind(
    session: SyntheticSession, written: list[Path]
) -> None:
    path = next(p for p in written if p.name == "labels.jsonl")
    labels = read_labels(path)
    assert labels == session.labels
    kinds = Counter(label.kind for label in labels)
    for kind in (
        "sweep",
        "split",
        "block",
        "multi_leg",
        "golden_sweep",
        "repeated_hits",
        "side_probe",
        "distractor",
        "absorbed_block",
        "stealth_accumulation",
        "distribution",
    ):
        assert kinds[kind] >= 1, kind
    structures = {label.structure for label in _by_kind(labels, "multi_leg")}
    assert structures == {
        "vertical",
        "straddle",
        "strangle",
        "butterfly",
        "calendar",
        "ladder",
        "risk_reversal",
    }
    assert len({label.label_id for label in labels}) == len(labels)


def test_every_labelled_option_print_exists_in_trades_and_tcbbo(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    trades = _keys(arrays["OPRA.PILLAR/trades"], with_sequence=True)
    tcbbo = _keys(arrays["OPRA.PILLAR/tcbbo"], with_sequence=False)
    for label in session.labels:
        if label.dataset != "OPRA.PILLAR":
            continue
        for m in label.members:
            assert (m.instrument_id, m.publisher_id, m.ts_event, m.sequence) in trades
            assert (m.instrument_id, m.publisher_id, m.ts_event) in tcbbo


def test_every_labelled_equity_print_exists_in_the_off_exchange_files(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    trades = _keys(arrays["EQUS.PLUS/trades"], with_sequence=True)
    tbbo = _keys(arrays["EQUS.PLUS/tbbo"], with_sequence=True)
    for label in _by_kind(session.labels, "absorbed_block", "stealth_accumulation", "distribution"):
        for m in label.members:
            assert (m.instrument_id, m.publisher_id, m.ts_event, m.sequence) in trades
            assert (m.instrument_id, m.publisher_id, m.ts_event, m.sequence) in tbbo


def test_sweeps_span_two_or_more_venues_of_one_contract_within_the_window(
    session: SyntheticSession,
) -> None:
    for label in _by_kind(session.labels, "sweep", "golden_sweep"):
        venues = {m.publisher_id for m in label.members}
        assert venues == set(label.venues)
        assert len(venues) >= 2
        assert len({m.instrument_id for m in label.members}) == 1
        assert len({m.side for m in label.members}) == 1
        assert label.ts_end - label.ts_start <= 300 * MS


def test_splits_and_repeated_hits_stay_on_one_venue(session: SyntheticSession) -> None:
    for label in _by_kind(session.labels, "split", "repeated_hits"):
        assert len({m.publisher_id for m in label.members}) == 1
        assert len({m.instrument_id for m in label.members}) == 1
        assert len(label.members) >= 2
        assert label.ts_end - label.ts_start <= 500 * MS
    for label in _by_kind(session.labels, "repeated_hits"):
        assert len(label.members) > 5
        received = [m.ts_recv for m in label.members]
        assert max(received) - min(received) <= 100 * MS


def test_golden_sweeps_exceed_a_million_dollars_and_open_interest(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    stats = arrays["OPRA.PILLAR/statistics"]
    golden = _by_kind(session.labels, "golden_sweep")
    assert golden
    for label in golden:
        oi = set(stats[stats["instrument_id"] == label.members[0].instrument_id]["quantity"])
        assert oi == {label.open_interest}
        assert label.premium_cents > 100_000_000
        assert label.size > label.open_interest
    for label in _by_kind(session.labels, "sweep"):
        assert label.premium_cents < 100_000_000  # plain sweeps never look golden


def test_multi_leg_legs_share_an_underlying_venue_and_moment(session: SyntheticSession) -> None:
    for label in _by_kind(session.labels, "multi_leg"):
        roots = {parse_occ(m.symbol).root for m in label.members}
        assert roots == {label.underlying}
        assert len({m.publisher_id for m in label.members}) == 1
        assert len(label.legs) == len(label.members) >= 2
        assert label.ts_end - label.ts_start <= MS
        by_id = {m.instrument_id: m for m in label.members}
        for leg in label.legs:
            m = by_id[leg.instrument_id]
            assert (leg.side, leg.size) == (m.side, m.size)
            mid2 = m.bid_px + m.ask_px
            # Legs lean toward their side: buys at or above mid, sells at or below.
            assert 2 * m.price >= mid2 if m.side == "buy" else 2 * m.price <= mid2


def test_multi_leg_structures_have_their_shape(session: SyntheticSession) -> None:
    for label in _by_kind(session.labels, "multi_leg"):
        occ = [parse_occ(leg.symbol) for leg in label.legs]
        rights = {o.right for o in occ}
        expiries = {o.expiration_date for o in occ}
        strikes = [o.strike_price for o in occ]
        if label.structure in ("straddle",):
            assert rights == {"C", "P"} and len(set(strikes)) == 1 and len(expiries) == 1
        elif label.structure in ("strangle", "risk_reversal"):
            assert rights == {"C", "P"} and len(set(strikes)) == 2
        elif label.structure == "calendar":
            assert len(expiries) == 2 and len(set(strikes)) == 1
        elif label.structure == "butterfly":
            assert [leg.ratio for leg in label.legs] == [1, 2, 1]
            assert strikes[1] - strikes[0] == strikes[2] - strikes[1] > 0
        elif label.structure in ("vertical", "ladder"):
            assert len(rights) == 1 and len(expiries) == 1 and len(set(strikes)) == len(strikes)


def test_planted_aggressive_prints_sit_on_their_side_of_the_asof_quote(
    session: SyntheticSession,
) -> None:
    checked = 0
    for label in session.labels:
        if label.kind not in AGGRESSIVE and label.variant not in (
            "at_ask",
            "at_bid",
            "at_ask_then_lift",
            "at_bid_then_drop",
            "moved_just_before",
        ):
            continue
        for m in label.members:
            assert m.bid_px is not None and m.ask_px is not None
            if m.side == "buy":
                assert m.price >= m.ask_px and m.bucket in ("A", "AA")
            else:
                assert m.price <= m.bid_px and m.bucket in ("B", "BB")
            checked += 1
    assert checked >= 20


def test_no_background_print_of_a_planted_contract_within_a_second(
    session: SyntheticSession, arrays: dict[str, np.ndarray]
) -> None:
    trades = arrays["OPRA.PILLAR/trades"]
    planted = {
        (m.instrument_id, m.publisher_id, m.ts_event, m.sequence)
        for label in session.labels
        if label.dataset == "OPRA.PILLAR"
        for m in label.members
    }
    for label in session.labels:
        if label.dataset != "OPRA.PILLAR":
            continue
        for iid in {m.instrument_id for m in label.members}:
            near = trades[
                (trades["instrument_id"] == iid)
                & (trades["ts_recv"] >= label.members[0].ts_recv - 1_000_000_000)
                & (trades["ts_recv"] <= label.members[-1].ts_recv + 1_000_000_000)
            ]
            for row in near:
                key = (
                    int(row["instrument_id"]),
                    int(row["publisher_id"]),
                    int(row["ts_event"]),
                    int(row["sequence"]),
                )
                assert key in planted


def test_dark_patterns_move_the_price_the_way_their_label_says(session: SyntheticSession) -> None:
    for label in _by_kind(session.labels, "stealth_accumulation"):
        assert len(label.members) >= 15 and label.side == "buy"
        assert label.impact_bps is not None and label.impact_bps > 0
        assert label.members[-1].price > label.members[0].price
    for label in _by_kind(session.labels, "distribution"):
        assert label.impact_bps is not None and label.impact_bps < 0
        assert label.members[-1].price < label.members[0].price
    for label in _by_kind(session.labels, "absorbed_block"):
        (m,) = label.members
        assert m.price * m.size >= 5_000_000 * 10**9 * 0.95
        assert label.impact_bps is not None and abs(label.impact_bps) < 50
