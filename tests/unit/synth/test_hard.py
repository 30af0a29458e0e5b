"""The hard profile: every property the tape promises, asserted on the generated data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from cli.main import app
from schemas.labels import Label, LabelMember
from schemas.occ import parse_occ
from synth import (
    PrintSide,
    SyntheticSession,
    generate_session,
    hard_config,
    read_labels,
    read_sides,
    write_session,
)

SEED = 41_207  # a seed of these tests only
US = 1_000
MS = 1_000_000
NS = 1_000_000_000
STRUCTURES = (
    "vertical", "straddle", "strangle", "butterfly", "condor", "ladder", "ratio_spread",
    "calendar", "risk_reversal",
)  # fmt: skip
LABELLED_MID = {"mid", "at_mid"}  # planted mid prints: their side is told by depth, not price
Key = tuple[int, int, int, int]


@pytest.fixture(scope="module")
def hard() -> SyntheticSession:
    return generate_session(hard_config(SEED))


@pytest.fixture(scope="module")
def written(hard: SyntheticSession, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    return write_session(hard, tmp_path_factory.mktemp("hard"))


@pytest.fixture(scope="module")
def trades(hard: SyntheticSession) -> np.ndarray:
    return hard.file("OPRA.PILLAR", "trades").records


@pytest.fixture(scope="module")
def quotes_around(hard: SyntheticSession, trades: np.ndarray) -> dict[str, np.ndarray]:
    """Per print, rows of cmbp-1 changes of its contract: the last strictly before it (by
    ts_recv), the one before that, and the first after it (-1 when there is none)."""
    quotes = hard.file("OPRA.PILLAR", "cmbp-1").records
    origin = hard.open_ns - 10 * NS

    def key(a: np.ndarray) -> np.ndarray:
        return a["instrument_id"].astype(np.int64) << 42 | (a["ts_recv"].astype(np.int64) - origin)

    order = np.argsort(key(quotes), kind="stable")
    at = np.searchsorted(key(quotes)[order], key(trades), side="left")
    iid = quotes["instrument_id"][order]

    def rows(i: np.ndarray) -> np.ndarray:
        inside = (i >= 0) & (i < len(order))
        clipped = np.clip(i, 0, len(order) - 1)
        same = inside & (iid[clipped] == trades["instrument_id"])
        return np.where(same, order[clipped], -1)

    return {"last": rows(at - 1), "previous": rows(at - 2), "next": rows(at)}


def key_of(m: LabelMember | PrintSide) -> Key:
    return (m.instrument_id, m.publisher_id, m.ts_event, m.sequence)


def trade_keys(trades: np.ndarray) -> list[Key]:
    cols = ("instrument_id", "publisher_id", "ts_event", "sequence")
    return list(zip(*(trades[c].tolist() for c in cols), strict=True))


def by_kind(hard: SyntheticSession, kind: str) -> list[Label]:
    return [label for label in hard.labels if label.kind == kind]


def test_flowtape_synth_hard_writes_the_bytes_of_hard_config_with_the_same_seed(
    written: list[Path], tmp_path: Path
) -> None:
    out = tmp_path / "again"
    result = CliRunner().invoke(app, ["synth", "--hard", "--seed", str(SEED), "--out", str(out)])
    assert result.exit_code == 0, result.output
    again = sorted(out.iterdir())
    assert [p.name for p in again] == [p.name for p in written]
    assert "sides.jsonl" in [p.name for p in again]
    for a, b in zip(again, written, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name


def test_labels_and_sides_round_trip(hard: SyntheticSession, written: list[Path]) -> None:
    folder = written[0].parent
    assert read_labels(folder / "labels.jsonl") == hard.labels
    assert hard.sides is not None
    assert read_sides(folder / "sides.jsonl") == hard.sides


def test_at_least_50_of_every_kind_and_structure_are_planted(hard: SyntheticSession) -> None:
    kinds = Counter(label.kind for label in hard.labels)
    for kind in ("sweep", "golden_sweep", "split", "block"):
        assert kinds[kind] >= 50, kind
    structures = Counter(label.structure for label in by_kind(hard, "multi_leg"))
    assert set(structures) == set(STRUCTURES)
    assert min(structures.values()) >= 50, structures


def test_every_print_of_a_complex_order_falls_within_100_us_legs_in_any_order(
    hard: SyntheticSession,
) -> None:
    orders = by_kind(hard, "multi_leg")
    out_of_leg_order = across_venues = 0
    for label in orders:
        received = [m.ts_recv for m in label.members]
        stamped = [m.ts_event for m in label.members]
        assert max(received) - min(received) <= 100 * US
        assert max(stamped) - min(stamped) <= 100 * US
        assert {m.instrument_id for m in label.members} == {leg.instrument_id for leg in label.legs}
        for leg in label.legs:
            mine = [m for m in label.members if m.instrument_id == leg.instrument_id]
            assert sum(m.size for m in mine) == leg.size
            assert {m.side for m in mine} == {leg.side}
            across_venues += len({m.publisher_id for m in mine}) > 1
        first_seen = list(dict.fromkeys(m.instrument_id for m in label.members))  # by ts_recv
        out_of_leg_order += first_seen != [leg.instrument_id for leg in label.legs]
    assert out_of_leg_order >= len(orders) // 4
    assert across_venues >= len(orders) // 4


def test_each_leg_print_fills_on_its_side_of_the_mid_not_always_at_the_touch(
    hard: SyntheticSession,
) -> None:
    buckets: Counter[str] = Counter()
    for label in by_kind(hard, "multi_leg"):
        for m in label.members:
            assert m.bid_px is not None and m.ask_px is not None
            assert m.bid_px <= m.price <= m.ask_px
            if m.side == "buy":
                assert 2 * m.price > m.bid_px + m.ask_px
            else:
                assert 2 * m.price < m.bid_px + m.ask_px
            buckets[m.bucket] += 1
    assert buckets["M"] >= sum(buckets.values()) // 2
    assert buckets["A"] > 0 and buckets["B"] > 0


def test_each_structure_has_its_leg_set(hard: SyntheticSession) -> None:
    for label in by_kind(hard, "multi_leg"):
        occ = [parse_occ(leg.symbol) for leg in label.legs]
        rights = [o.right for o in occ]
        expiries = {o.expiration_date for o in occ}
        strikes = [o.strike_price for o in occ]
        sides = [leg.side for leg in label.legs]
        ratios = [leg.ratio for leg in label.legs]
        assert {parse_occ(m.symbol).root for m in label.members} == {label.underlying}
        if label.structure in ("straddle", "strangle", "risk_reversal"):
            assert rights == ["C", "P"] and len(expiries) == 1 and ratios == [1, 1]
            assert (strikes[0] == strikes[1]) == (label.structure == "straddle")
            if label.structure != "straddle":
                assert strikes[0] > strikes[1]  # both out of the money
            assert (sides[0] == sides[1]) == (label.structure != "risk_reversal")
            continue
        assert len(set(rights)) == 1
        if label.structure == "calendar":
            assert len(expiries) == 2 and len(set(strikes)) == 1
            assert set(sides) == {"buy", "sell"} and ratios == [1, 1]
            continue
        assert len(expiries) == 1 and strikes == sorted(set(strikes))
        if label.structure == "vertical":
            assert len(strikes) == 2 and set(sides) == {"buy", "sell"} and ratios == [1, 1]
        elif label.structure == "ratio_spread":
            assert len(strikes) == 2 and set(sides) == {"buy", "sell"}
            assert ratios[0] != ratios[1] and max(ratios) <= 3 * min(ratios)
        elif label.structure == "butterfly":
            assert ratios == [1, 2, 1] and strikes[1] - strikes[0] == strikes[2] - strikes[1]
            assert sides[0] == sides[2] != sides[1]
        elif label.structure == "condor":
            assert ratios == [1, 1, 1, 1] and strikes[1] - strikes[0] == strikes[3] - strikes[2]
            assert sides[0] == sides[3] != sides[1] == sides[2]
        elif label.structure == "ladder":
            assert ratios == [1, 1, 1] and sides[1] in (sides[0], sides[2])
            assert sorted(Counter(sides).values()) == [1, 2] and sides[0] != sides[2]
        else:
            raise AssertionError(label.structure)


def test_unrelated_prints_sit_beside_complex_orders_but_outside_their_100_us(
    hard: SyntheticSession,
) -> None:
    orders = {label.label_id: label for label in by_kind(hard, "multi_leg")}
    seen: Counter[str] = Counter()
    for label in by_kind(hard, "distractor"):
        if label.near not in orders:
            continue
        order, (m,) = orders[label.near], label.members
        root = parse_occ(m.symbol).root
        assert m.instrument_id not in {leg.instrument_id for leg in order.legs}
        if label.variant == "same_underlying_other_venue":
            assert root == order.underlying and m.publisher_id not in order.venues
            gap = min(abs(m.ts_recv - o.ts_recv) for o in order.members)
            assert 100 * US < gap <= 400 * US
            assert min(abs(m.ts_event - o.ts_event) for o in order.members) > 100 * US
        else:
            assert label.variant == "other_underlying_same_venue"
            assert root != order.underlying
            same_venue = [o for o in order.members if o.publisher_id == m.publisher_id]
            assert min(abs(m.ts_recv - o.ts_recv) for o in same_venue) <= 40 * US
        seen[label.variant or ""] += 1
    assert seen["same_underlying_other_venue"] >= 100
    assert seen["other_underlying_same_venue"] >= 100


def test_prints_of_one_underlying_within_100_us_belong_to_one_planted_event(
    hard: SyntheticSession, trades: np.ndarray
) -> None:
    label_of = {
        key_of(m): label.label_id
        for label in hard.labels
        if label.dataset == "OPRA.PILLAR"
        for m in label.members
    }
    symbols = hard.file("OPRA.PILLAR", "trades").symbology
    roots = {iid: parse_occ(symbol).root for iid, symbol in symbols.items()}
    root = np.array([roots[int(i)] for i in trades["instrument_id"]])
    order = np.lexsort((trades["ts_recv"], root))
    keys = trade_keys(trades)
    received = trades["ts_recv"].astype(np.int64)
    pairs = 0
    for a, b in zip(order[:-1], order[1:], strict=True):
        if root[a] != root[b] or received[b] - received[a] > 100 * US:
            continue
        mine, theirs = label_of.get(keys[a]), label_of.get(keys[b])
        if mine is None and theirs is None:
            continue  # two background prints meeting by chance: no planted truth to blur
        assert mine == theirs and mine is not None
        if keys[a][0] != keys[b][0]:  # two contracts: only legs of one order come that close
            assert mine.startswith("multi_leg")
            pairs += 1
    assert pairs >= 9 * 50


def test_distractors_print_a_sweeps_contract_a_second_or_so_around_it(
    hard: SyntheticSession,
) -> None:
    sweeps = {label.label_id: label for label in hard.labels if label.packet_kind == "sweep"}
    near = [label for label in by_kind(hard, "distractor") if label.near in sweeps]
    assert len(near) >= 30
    for label in near:
        assert label.variant == "same_contract_near_sweep"
        sweep, (m,) = sweeps[label.near or ""], label.members
        assert m.instrument_id == sweep.members[0].instrument_id
        gap = min(abs(m.ts_recv - s.ts_recv) for s in sweep.members)
        assert 500 * MS < gap <= 2 * NS


def test_the_nbbo_moves_within_a_millisecond_before_and_after_many_prints(
    hard: SyntheticSession, trades: np.ndarray, quotes_around: dict[str, np.ndarray]
) -> None:
    quotes = hard.file("OPRA.PILLAR", "cmbp-1").records
    last, previous, after = quotes_around["last"], quotes_around["previous"], quotes_around["next"]
    assert (last >= 0).all()
    received = trades["ts_recv"].astype(np.int64)
    fresh = received - quotes["ts_recv"][last].astype(np.int64) < MS
    has_previous = previous >= 0
    moved = np.zeros(len(trades), dtype=bool)
    for side in ("bid_px_00", "ask_px_00"):
        moved[has_previous] |= (
            quotes[side][last[has_previous]] != quotes[side][previous[has_previous]]
        )
    assert np.mean(fresh & moved) >= 0.15
    reacted = (after >= 0) & (quotes["ts_recv"][after].astype(np.int64) - received < MS)
    assert np.mean(reacted) >= 0.15
    planted = {key_of(m) for label in by_kind(hard, "multi_leg") for m in label.members}
    in_orders = np.array([k in planted for k in trade_keys(trades)])
    assert np.mean(fresh[in_orders]) >= 0.2


def test_quiet_contracts_print_under_a_quote_seconds_old(
    hard: SyntheticSession, trades: np.ndarray, quotes_around: dict[str, np.ndarray]
) -> None:
    quotes = hard.file("OPRA.PILLAR", "cmbp-1").records
    age = trades["ts_recv"].astype(np.int64) - quotes["ts_recv"][quotes_around["last"]].astype(
        np.int64
    )
    assert np.mean(age > NS) >= 0.15
    assert np.mean(age > 5 * NS) >= 0.05
    assert hard.sides is not None
    known = {key_of(s) for s in hard.sides}
    stale_known = [
        k for k, old in zip(trade_keys(trades), age > NS, strict=True) if old and k in known
    ]
    assert len(stale_known) >= 0.1 * len(trades)


def test_tcbbo_and_labels_carry_the_last_cmbp1_quote_before_each_print(
    hard: SyntheticSession, trades: np.ndarray, quotes_around: dict[str, np.ndarray]
) -> None:
    quotes = hard.file("OPRA.PILLAR", "cmbp-1").records
    tcbbo = hard.file("OPRA.PILLAR", "tcbbo").records
    last = quotes[quotes_around["last"]]
    for name in ("bid_px_00", "ask_px_00", "bid_sz_00", "ask_sz_00", "bid_pb_00", "ask_pb_00"):
        assert (last[name] == tcbbo[name]).all(), name
    row_of = {k: i for i, k in enumerate(trade_keys(trades))}
    for label in hard.labels:
        if label.dataset == "OPRA.PILLAR":
            for m in label.members:
                row = row_of[key_of(m)]
                assert (m.bid_px, m.ask_px) == (last["bid_px_00"][row], last["ask_px_00"][row])


def test_sides_give_the_true_side_of_every_print_but_background_ones_at_the_exact_mid(
    hard: SyntheticSession, trades: np.ndarray
) -> None:
    assert hard.sides is not None
    side_of = {key_of(s): s.side for s in hard.sides}
    keys = trade_keys(trades)
    assert set(side_of) <= set(keys)
    assert len(side_of) >= 0.85 * len(keys)
    planted = {key_of(m): label for label in hard.labels for m in label.members}
    for label in hard.labels:
        if label.dataset == "OPRA.PILLAR":
            assert all(side_of[key_of(m)] == m.side for m in label.members)
    tcbbo = hard.file("OPRA.PILLAR", "tcbbo").records
    twice_mid = tcbbo["bid_px_00"].astype(np.int64) + tcbbo["ask_px_00"].astype(np.int64)
    twice_price = 2 * tcbbo["price"].astype(np.int64)
    for row, k in enumerate(keys):
        side = side_of.get(k)
        if side is None:
            assert k not in planted and twice_price[row] == twice_mid[row]
        elif k in planted and planted[k].variant in LABELLED_MID:
            assert side in ("buy", "sell")
        else:
            assert (twice_price[row] > twice_mid[row]) == (side == "buy"), k
            assert twice_price[row] != twice_mid[row]
