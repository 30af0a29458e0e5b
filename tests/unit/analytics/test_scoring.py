"""Scoring a run against labels, on small hand-made labels and outputs."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from analytics.run_outputs import DarkPoolRow, HitRow, InferredSide, PacketRow, PrintKey, RunOutputs
from analytics.scoring import Detection, Score, Tally, score_run, side_accuracy, true_sides
from schemas.labels import Label, LabelMember

BUY_AT_ASK = InferredSide(side="buy", bucket="A", rule="quote", nbbo_status="joined")


def key(n: int, sequence: int | None = None) -> PrintKey:
    """Print n: contract 7 on venue 20 at ts_event 1 000 + n, sequence n unless told."""
    return (7, 20, 1_000 + n, n if sequence is None else sequence)


def member(n: int, side: str = "buy") -> LabelMember:
    instrument_id, publisher_id, ts_event, sequence = key(n)
    return LabelMember(
        instrument_id=instrument_id, publisher_id=publisher_id, ts_event=ts_event,
        sequence=sequence, ts_recv=ts_event + 100, symbol="AAPL  240119C00190000",
        price=1_500_000_000, size=10, side=side, bucket="A", bid_px=1_400_000_000,
        ask_px=1_500_000_000,
    )  # fmt: skip


def label(kind: str, prints: list[int], **fields: object) -> Label:
    """A planted event of `prints`, each bought; `packet_kind` defaults to `kind`."""
    members = [member(n) for n in prints]
    defaults: dict[str, object] = dict(
        label_id=f"{kind}-{prints[0]}", kind=kind, packet_kind=kind, dataset="OPRA.PILLAR",
        underlying="AAPL", side="buy", ts_start=members[0].ts_event,
        ts_end=members[-1].ts_event, size=10 * len(prints), premium_cents=0, venues=[20],
        members=members,
    )  # fmt: skip
    return Label(**(defaults | fields))  # type: ignore[arg-type]


def packet(kind: str, prints: list[int], structure: str = "") -> PacketRow:
    return PacketRow(kind=kind, structure=structure, members=frozenset(map(key, prints)))


def outputs(
    packets: Sequence[PacketRow] = (),
    inferences: dict[PrintKey, InferredSide] | None = None,
    hits: Sequence[HitRow] = (),
    darkpool: Sequence[DarkPoolRow] = (),
) -> RunOutputs:
    return RunOutputs(inferences or {}, list(packets), list(hits), list(darkpool))


def detection(planted: int, found: int, detected: int, correct: int) -> Detection:
    return Detection(
        planted=planted, found=found, detected=detected, correct=correct,
        precision=correct / detected if detected else 0.0,
        recall=found / planted if planted else 0.0,
    )  # fmt: skip


def test_a_packet_that_is_exactly_a_planted_event_scores_full_precision_and_recall() -> None:
    score = score_run([label("sweep", [1, 2, 3])], outputs([packet("sweep", [1, 2, 3])]))
    assert score.kinds == {"sweep": detection(1, 1, 1, 1)}


def test_a_multi_leg_order_missing_a_leg_is_neither_found_nor_right() -> None:
    butterfly = label("multi_leg", [1, 2, 3], structure="butterfly")
    run = outputs([packet("multi_leg", [1, 2], "vertical"), packet("single", [3])])
    score = score_run([butterfly], run)
    assert score.kinds == {"multi_leg": detection(1, 0, 1, 0), "single": detection(0, 0, 1, 0)}
    assert score.structures == {
        "butterfly": detection(1, 0, 0, 0),
        "vertical": detection(0, 0, 1, 0),
    }


def test_a_packet_with_an_extra_print_is_not_the_planted_event() -> None:
    score = score_run([label("sweep", [1, 2, 3])], outputs([packet("sweep", [1, 2, 3, 99])]))
    assert score.kinds["sweep"] == detection(1, 0, 1, 0)
    assert (score.kinds["sweep"].precision, score.kinds["sweep"].recall) == (0.0, 0.0)


def test_packets_of_background_prints_alone_are_left_out_of_precision() -> None:
    run = outputs([packet("sweep", [1, 2, 3]), packet("sweep", [98, 99])])
    assert score_run([label("sweep", [1, 2, 3])], run).kinds["sweep"] == detection(1, 1, 1, 1)


def test_a_whole_order_with_the_wrong_structure_is_a_right_kind_and_a_wrong_structure() -> None:
    ladder = label("multi_leg", [1, 2, 3], structure="ladder")
    score = score_run([ladder], outputs([packet("multi_leg", [1, 2, 3], "butterfly")]))
    assert score.kinds["multi_leg"] == detection(1, 1, 1, 1)
    assert score.structures == {
        "butterfly": detection(0, 0, 1, 0),
        "ladder": detection(1, 0, 0, 0),
    }


def test_two_sweeps_one_found_one_split_in_two() -> None:
    labels = [label("sweep", [1, 2]), label("sweep", [3, 4])]
    run = outputs([packet("sweep", [1, 2]), packet("sweep", [3]), packet("sweep", [4])])
    found = score_run(labels, run).kinds["sweep"]
    assert found == detection(2, 1, 3, 1)
    assert (found.precision, found.recall) == (1 / 3, 0.5)


def test_a_print_left_without_a_side_or_never_inferred_counts_as_wrong() -> None:
    labels = [label("sweep", [1, 2, 3])]
    inferences = {
        key(1): BUY_AT_ASK,
        key(2): InferredSide(side="unknown", bucket="NA", rule="none", nbbo_status="stale"),
    }
    sides = score_run(labels, outputs(inferences=inferences)).sides
    assert (sides.prints, sides.right) == (3, 1)
    assert sides.accuracy == 1 / 3
    assert sides.by_status == {
        "joined": Tally(prints=1, right=1, accuracy=1.0),
        "stale": Tally(prints=1, right=0, accuracy=0.0),
        "absent": Tally(prints=1, right=0, accuracy=0.0),
    }
    assert sides.by_bucket == {
        "A": Tally(prints=1, right=1, accuracy=1.0),
        "NA": Tally(prints=2, right=0, accuracy=0.0),
    }
    assert list(sides.by_rule) == ["absent", "none", "quote"]


def test_a_wrong_side_counts_against_its_status_and_bucket() -> None:
    sold = InferredSide(side="sell", bucket="B", rule="tick", nbbo_status="held")
    sides = score_run([label("block", [1])], outputs(inferences={key(1): sold})).sides
    assert sides.by_status == {"held": Tally(prints=1, right=0, accuracy=0.0)}
    assert sides.by_bucket == {"B": Tally(prints=1, right=0, accuracy=0.0)}


def test_statuses_are_grouped_as_the_run_names_them_in_a_fixed_order() -> None:
    statuses = ["someday", "crossed", "held", "print"]
    truth = {key(n): "buy" for n in range(len(statuses))}
    run = outputs(
        inferences={
            key(n): InferredSide(side="buy", bucket="A", rule="quote", nbbo_status=status)
            for n, status in enumerate(statuses)
        }
    )
    assert list(side_accuracy(truth, run).by_status) == ["print", "held", "crossed", "someday"]


def test_true_sides_are_the_bought_and_sold_prints_of_option_labels() -> None:
    mixed = label("side_probe", [1, 2, 3], packet_kind="single")
    mixed = msgspec.structs.replace(
        mixed, members=[member(1, "buy"), member(2, "sell"), member(3, "unknown")]
    )
    dark = label("absorbed_block", [4], packet_kind="darkpool", dataset="EQUS.PLUS")
    assert true_sides([mixed, dark]) == {key(1): "buy", key(2): "sell"}


def test_prints_without_a_sequence_stand_for_the_labelled_print_at_the_same_moment() -> None:
    # tcbbo records carry no sequence: the run's prints have sequence 0
    run = outputs(
        [PacketRow("sweep", "", frozenset({key(1, 0), key(2, 0)}))],
        inferences={key(1, 0): BUY_AT_ASK, key(2, 0): BUY_AT_ASK},
    )
    score = score_run([label("sweep", [1, 2])], run)
    assert score.kinds["sweep"] == detection(1, 1, 1, 1)
    assert (score.sides.prints, score.sides.right) == (2, 2)


def test_a_print_without_a_sequence_matches_no_two_labelled_prints_of_one_moment() -> None:
    twins = label("split", [1, 2])
    twins = msgspec.structs.replace(
        twins, members=[member(1), msgspec.structs.replace(member(1), sequence=50)]
    )
    run = outputs([PacketRow("split", "", frozenset({key(1, 0)}))], {key(1, 0): BUY_AT_ASK})
    score = score_run([twins], run)
    assert score.kinds["split"] == detection(1, 0, 0, 0)
    assert score.sides.right == 0


def test_classifier_rules_are_scored_on_every_hit_of_the_run() -> None:
    labels = [label("golden_sweep", [1, 2], packet_kind="sweep"),
              label("golden_sweep", [3, 4], packet_kind="sweep")]  # fmt: skip
    hits = [
        HitRow("golden_sweep", frozenset(map(key, [1, 2]))),
        HitRow("golden_sweep", frozenset(map(key, [98, 99]))),  # background: still counted
        HitRow("repeated_hits", frozenset(map(key, [97]))),  # fired, none planted
        HitRow("sweep", frozenset(map(key, [1, 2]))),  # not a planted kind: not scored
    ]
    score = score_run(labels, outputs(hits=hits))
    assert score.rules == {
        "golden_sweep": detection(2, 1, 2, 1),
        "repeated_hits": detection(0, 0, 1, 0),
    }


def test_a_dark_pool_inference_matches_a_pattern_when_each_holds_60_percent_of_the_other() -> None:
    pattern = label("stealth_accumulation", [1, 2, 3, 4, 5], packet_kind="darkpool")
    close = DarkPoolRow("stealth_accumulation", frozenset(map(key, [1, 2, 3, 90, 91])))
    apart = DarkPoolRow("stealth_accumulation", frozenset(map(key, [4, 5, 92])))
    score = score_run([pattern], outputs(darkpool=[close, apart]))
    assert score.darkpool == {"stealth_accumulation": detection(1, 1, 2, 1)}


def test_a_score_survives_json() -> None:
    labels = [label("sweep", [1, 2]), label("multi_leg", [3, 4], structure="vertical")]
    run = outputs([packet("sweep", [1, 2]), packet("multi_leg", [3, 4], "vertical")],
                  {key(1): BUY_AT_ASK})  # fmt: skip
    score = score_run(labels, run)
    assert msgspec.json.decode(msgspec.json.encode(score), type=Score) == score
