"""Accuracy of a run against the labels of its session (`flowtape score`, the accuracy tests).

Packet kinds (sweep, split, block, multi_leg, single) and multi-leg structures are scored on
the planted events: recall = planted events whose prints form exactly one packet of that kind
(and structure); precision = of the packets of that kind that contain any labelled print,
the share that are exactly a planted event. Background prints carry no truth, and random
coincidences among them are sweeps or blocks by definition, so packets made only of
background prints are left out of precision. Golden sweeps and repeated hits are classifier
rules: their precision counts every hit of the run. A dark-pool inference and a planted
pattern match when each holds at least 60 % of the other's prints.

Side accuracy covers every print whose true side the labels give (`true_sides`); a print
left without a side, or with no inference at all, counts as wrong. It is split by the NBBO
status, the bucket and the rule the engine gave the print.

Prints are matched by key (instrument_id, publisher_id, ts_event, sequence). OPRA `tcbbo`
records carry no sequence (their prints have sequence 0): such a print stands for the
labelled print with the same instrument, venue and ts_event, when exactly one has them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

import msgspec

from analytics.run_outputs import DarkPoolRow, HitRow, PacketRow, PrintKey, RunOutputs
from schemas.labels import Label, LabelMember, PrintSide

MULTI_LEG = "multi_leg"
DARKPOOL = "darkpool"  # the packet kind of labels of off-exchange equity patterns
RULE_KINDS = ("golden_sweep", "repeated_hits")  # planted kinds that a classifier rule names
DARKPOOL_OVERLAP = 0.6
NO_INFERENCE = "absent"  # status and rule of a labelled print the run has no inference for
# Report order; values not listed follow in alphabetical order.
KIND_ORDER = ("sweep", "split", "block", MULTI_LEG, "single")
STATUS_ORDER = ("print", "joined", "held", "stale", "missing", "crossed", NO_INFERENCE)
BUCKET_ORDER = ("AA", "A", "M", "B", "BB", "NA")


class Detection(msgspec.Struct, frozen=True, kw_only=True):
    """How a detector did on one kind of planted event.

    `found` of the `planted` events were detected (recall); of its `detected` outputs that
    count toward precision, `correct` are a planted event. A share with nothing to divide
    is 0.0.
    """

    planted: int
    found: int
    detected: int
    correct: int
    precision: float
    recall: float


class Tally(msgspec.Struct, frozen=True, kw_only=True):
    """Prints whose inferred side was right, of the prints with a true side."""

    prints: int
    right: int
    accuracy: float


class SideAccuracy(msgspec.Struct, frozen=True, kw_only=True):
    """Side accuracy over all prints with a true side, and split by the engine's NBBO
    status, bucket and rule."""

    prints: int
    right: int
    accuracy: float
    by_status: dict[str, Tally]
    by_bucket: dict[str, Tally]
    by_rule: dict[str, Tally]


class Score(msgspec.Struct, frozen=True, kw_only=True):
    """A run scored against its labels: per packet kind, multi-leg structure, classifier
    rule and dark-pool pattern that the labels plant, and the side accuracy."""

    kinds: dict[str, Detection]
    structures: dict[str, Detection]
    rules: dict[str, Detection]
    darkpool: dict[str, Detection]
    sides: SideAccuracy


def score_run(
    labels: Sequence[Label], outputs: RunOutputs, sides: Iterable[PrintSide] = ()
) -> Score:
    """Score a run's outputs against the labels of its session (and the true sides of its
    other prints, `sides.jsonl`, where the session has them).

    Rows: every kind, structure, rule and pattern the labels plant, and every one the run
    gave planted prints (or, for rules and patterns, any hit or inference), planted or not.
    """
    outputs = _keyed_like(outputs, (_key(m) for label in labels for m in label.members))
    options = [label for label in labels if label.packet_kind != DARKPOOL]
    patterns = [label for label in labels if label.packet_kind == DARKPOOL]
    labelled = frozenset(key for label in options for key in _members(label))
    touched = [p for p in outputs.packets if not p.members.isdisjoint(labelled)]
    kinds = {label.packet_kind for label in options} | {p.kind for p in touched}
    structures = {label.structure for label in options if label.packet_kind == MULTI_LEG}
    structures |= {p.structure for p in touched if p.kind == MULTI_LEG}
    rules = {label.kind for label in labels} | {hit.rule for hit in outputs.hits}
    found_patterns = {label.kind for label in patterns} | {d.kind for d in outputs.darkpool}
    return Score(
        kinds={
            kind: _packet_detection(options, touched, kind) for kind in _ordered(kinds, KIND_ORDER)
        },
        structures={
            structure: _packet_detection(options, touched, MULTI_LEG, structure)
            for structure in sorted(s for s in structures if s)
        },
        rules={
            rule: _rule_detection(labels, outputs, rule) for rule in RULE_KINDS if rule in rules
        },
        darkpool={
            kind: _darkpool_detection(patterns, outputs.darkpool, kind)
            for kind in sorted(found_patterns)
        },
        sides=side_accuracy(true_sides(labels, sides), outputs),
    )


def true_sides(labels: Iterable[Label], sides: Iterable[PrintSide] = ()) -> dict[PrintKey, str]:
    """The true aggressor side of every print the labels know it for: the members of
    planted option events marked buy or sell, and every print of `sides`."""
    truth: dict[PrintKey, str] = {
        (s.instrument_id, s.publisher_id, s.ts_event, s.sequence): s.side
        for s in sides
        if s.side in ("buy", "sell")
    }
    truth.update(
        (_key(member), member.side)
        for label in labels
        if label.packet_kind != DARKPOOL
        for member in label.members
        if member.side in ("buy", "sell")
    )
    return truth


def side_accuracy(truth: Mapping[PrintKey, str], outputs: RunOutputs) -> SideAccuracy:
    """How often the run's inferred side is the true one, over the prints in `truth`."""
    rekey = _rekey(truth)
    inferences = {rekey(key): inferred for key, inferred in outputs.inferences.items()}
    total = _Counts()
    by_status: dict[str, _Counts] = {}
    by_bucket: dict[str, _Counts] = {}
    by_rule: dict[str, _Counts] = {}
    for key, side in truth.items():
        inferred = inferences.get(key)
        if inferred is None:
            status, bucket, rule, right = NO_INFERENCE, "NA", NO_INFERENCE, False
        else:
            status, bucket, rule = inferred.nbbo_status, inferred.bucket, inferred.rule
            right = inferred.side == side
        for counts in (
            total,
            by_status.setdefault(status, _Counts()),
            by_bucket.setdefault(bucket, _Counts()),
            by_rule.setdefault(rule, _Counts()),
        ):
            counts.add(right)
    return SideAccuracy(
        prints=total.prints,
        right=total.right,
        accuracy=_share(total.right, total.prints),
        by_status={s: by_status[s].tally() for s in _ordered(by_status, STATUS_ORDER)},
        by_bucket={b: by_bucket[b].tally() for b in _ordered(by_bucket, BUCKET_ORDER)},
        by_rule={r: by_rule[r].tally() for r in sorted(by_rule)},
    )


# ------------------------------------------------------------------------ detections


def _packet_detection(
    labels: Sequence[Label], touched: Sequence[PacketRow], kind: str, structure: str | None = None
) -> Detection:
    """`touched`: the run's packets that hold a labelled print."""
    planted = {
        _members(label)
        for label in labels
        if label.packet_kind == kind and (structure is None or label.structure == structure)
    }
    detected = [
        packet.members
        for packet in touched
        if packet.kind == kind and (structure is None or packet.structure == structure)
    ]
    correct = sum(1 for members in detected if members in planted)
    return _detection(len(planted), len(planted.intersection(detected)), len(detected), correct)


def _rule_detection(labels: Sequence[Label], outputs: RunOutputs, rule: str) -> Detection:
    planted = {_members(label) for label in labels if label.kind == rule}
    flagged = {hit.members for hit in outputs.hits if hit.rule == rule}
    right = len(flagged & planted)
    return _detection(len(planted), right, len(flagged), right)


def _darkpool_detection(
    patterns: Sequence[Label], events: Sequence[DarkPoolRow], kind: str
) -> Detection:
    planted = [_members(label) for label in patterns if label.kind == kind]
    found = [event.prints for event in events if event.kind == kind]
    return _detection(
        len(planted),
        sum(any(_same_pattern(p, f) for f in found) for p in planted),
        len(found),
        sum(any(_same_pattern(p, f) for p in planted) for f in found),
    )


def _same_pattern(a: frozenset[PrintKey], b: frozenset[PrintKey]) -> bool:
    shared = len(a & b)
    return shared >= DARKPOOL_OVERLAP * len(a) and shared >= DARKPOOL_OVERLAP * len(b)


def _detection(planted: int, found: int, detected: int, correct: int) -> Detection:
    return Detection(
        planted=planted,
        found=found,
        detected=detected,
        correct=correct,
        precision=_share(correct, detected),
        recall=_share(found, planted),
    )


# ------------------------------------------------------------------------ helpers


@dataclass(slots=True)
class _Counts:
    prints: int = 0
    right: int = 0

    def add(self, right: bool) -> None:
        self.prints += 1
        self.right += right

    def tally(self) -> Tally:
        return Tally(prints=self.prints, right=self.right, accuracy=_share(self.right, self.prints))


def _share(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def _ordered(names: Collection[str], order: Sequence[str]) -> list[str]:
    return [n for n in order if n in names] + sorted(n for n in names if n not in order)


def _key(member: LabelMember) -> PrintKey:
    return (member.instrument_id, member.publisher_id, member.ts_event, member.sequence)


def _members(label: Label) -> frozenset[PrintKey]:
    return frozenset(map(_key, label.members))


def _rekey(labelled: Iterable[PrintKey]) -> Callable[[PrintKey], PrintKey]:
    """Maps a sequence-less print key to the labelled key it stands for; others unchanged."""
    by_place: dict[tuple[int, int, int], PrintKey] = {}
    ambiguous: set[tuple[int, int, int]] = set()
    for key in set(labelled):
        place = key[:3]
        if place in by_place:
            ambiguous.add(place)
        by_place[place] = key
    for place in ambiguous:
        del by_place[place]

    def rekey(key: PrintKey) -> PrintKey:
        return by_place.get(key[:3], key) if key[3] == 0 else key

    return rekey


def _keyed_like(outputs: RunOutputs, labelled: Iterable[PrintKey]) -> RunOutputs:
    """`outputs` with its print keys matched to the labelled ones (see the module's notes)."""
    rekey = _rekey(labelled)

    def rekeyed(keys: frozenset[PrintKey]) -> frozenset[PrintKey]:
        return frozenset(map(rekey, keys))

    return RunOutputs(
        inferences={rekey(key): inferred for key, inferred in outputs.inferences.items()},
        packets=[PacketRow(p.kind, p.structure, rekeyed(p.members)) for p in outputs.packets],
        hits=[HitRow(h.rule, rekeyed(h.members)) for h in outputs.hits],
        darkpool=[DarkPoolRow(d.kind, rekeyed(d.prints)) for d in outputs.darkpool],
    )
