"""What a run derived, reduced to what scoring against labels looks at.

Built from the engine's derived events (`RunOutputs.from_events`) or from a run's
ClickHouse tables (`read_run_outputs`): both give the same value for the same run.
Prints are named by their key (instrument_id, publisher_id, ts_event, sequence), as in
labels and in every piece of evidence.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import msgspec

from infra.warehouse import Warehouse
from schemas.errors import FlowtapeError
from schemas.events import (
    ClassifierHit,
    DarkPoolEvent,
    Event,
    FlowPacket,
    MemberPrint,
    PrintInference,
)

PrintKey = tuple[int, int, int, int]


class UnknownRun(FlowtapeError):
    """The run id names no run in the warehouse."""

    code = "unknown_run"


@dataclass(frozen=True, slots=True)
class InferredSide:
    """What the engine said about one print's aggressor and the quote it used."""

    side: str
    bucket: str
    rule: str
    nbbo_status: str


@dataclass(frozen=True, slots=True)
class PacketRow:
    kind: str
    structure: str
    members: frozenset[PrintKey]


@dataclass(frozen=True, slots=True)
class HitRow:
    rule: str
    members: frozenset[PrintKey]


@dataclass(frozen=True, slots=True)
class DarkPoolRow:
    kind: str
    prints: frozenset[PrintKey]


@dataclass(frozen=True, slots=True)
class RunOutputs:
    """One run's print inferences, packets, classifier hits and dark-pool inferences."""

    inferences: dict[PrintKey, InferredSide]
    packets: list[PacketRow]
    hits: list[HitRow]
    darkpool: list[DarkPoolRow]

    @classmethod
    def from_events(cls, events: Iterable[Event]) -> RunOutputs:
        """From derived events (other events are ignored)."""
        outputs = cls({}, [], [], [])
        for event in events:
            if isinstance(event, PrintInference):
                outputs.inferences[_key(event)] = InferredSide(
                    event.side, event.bucket, event.rule, event.nbbo_status
                )
            elif isinstance(event, FlowPacket):
                outputs.packets.append(PacketRow(event.kind, event.structure, _keys(event.members)))
            elif isinstance(event, ClassifierHit):
                outputs.hits.append(HitRow(event.rule, _keys(event.members)))
            elif isinstance(event, DarkPoolEvent):
                outputs.darkpool.append(DarkPoolRow(event.kind, _keys(event.prints)))
        return outputs


def _key(row: PrintInference | MemberPrint) -> PrintKey:
    return (row.instrument_id, row.publisher_id, row.ts_event, row.sequence)


def _keys(members: Iterable[MemberPrint]) -> frozenset[PrintKey]:
    return frozenset(map(_key, members))


_members = msgspec.json.Decoder(list[MemberPrint])


def read_run_outputs(warehouse: Warehouse, run_id: str) -> RunOutputs:
    """The run's rows in `print_inference`, `flow_packets` with `packet_prints`,
    `classifier_hits` and `darkpool_events`; UnknownRun if it is neither registered in
    `runs` nor holds any print inference. A print no stored packet holds was a lone single
    (the engine emits every print in one packet), so it reads back as one."""
    params = {"run": run_id}
    known = warehouse.scalar(
        "SELECT (SELECT count() FROM runs WHERE run_id = {run:String}) "
        "+ (SELECT count() FROM print_inference WHERE run_id = {run:String})",
        params,
    )
    if not known:
        raise UnknownRun(f"no run {run_id!r}: not registered and no print inferences stored")
    inferences = {
        (int(instrument), int(publisher), int(ts_event), int(sequence)): InferredSide(
            side, bucket, rule, status
        )
        for instrument, publisher, ts_event, sequence, side, bucket, rule, status in warehouse.rows(
            "SELECT instrument_id, publisher_id, toUnixTimestamp64Nano(ts_event), sequence, "
            "side, bucket, rule, nbbo_status FROM print_inference WHERE run_id = {run:String}",
            params,
        )
    }
    members: dict[str, set[PrintKey]] = {}
    for packet_id, instrument, publisher, ts_event, sequence in warehouse.rows(
        "SELECT packet_id, instrument_id, publisher_id, toUnixTimestamp64Nano(ts_event), "
        "sequence FROM packet_prints WHERE run_id = {run:String}",
        params,
    ):
        members.setdefault(packet_id, set()).add(
            (int(instrument), int(publisher), int(ts_event), int(sequence))
        )
    packets = [
        PacketRow(kind, structure, frozenset(members.get(packet_id, ())))
        for packet_id, kind, structure in warehouse.rows(
            "SELECT packet_id, kind, structure FROM flow_packets WHERE run_id = {run:String}",
            params,
        )
    ]
    packed = set().union(*members.values())
    packets += [
        PacketRow("single", "", frozenset((key,))) for key in inferences if key not in packed
    ]
    hits = [
        HitRow(rule, _keys(_members.decode(text)))
        for rule, text in warehouse.rows(
            "SELECT rule, members FROM classifier_hits WHERE run_id = {run:String}", params
        )
    ]
    darkpool = [
        DarkPoolRow(kind, _keys(_members.decode(text)))
        for kind, text in warehouse.rows(
            "SELECT kind, prints FROM darkpool_events WHERE run_id = {run:String}", params
        )
    ]
    return RunOutputs(inferences, packets, hits, darkpool)
