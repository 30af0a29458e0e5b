"""The kernel's output rows as the derived tables of `schemas.derived_tables`, built column
by column (numpy and Arrow, no object per row), plus the hits and alerts as events.

Only packets that may fire a classifier rule become FlowPacket structs here (a few in a
hundred): the rules read them. A one-print block that can fire no other rule needs none (its
hits are the block rule's, built from its rows). Everything else goes from the integer rows
straight into Arrow arrays.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from compute.flow.aggressor import INFERENCES
from compute.flow.baselines import fixed_ratios
from compute.flow.classifiers import block_hit, classify, emit_hits, subject_of
from compute.flow.columnar import ColumnarState, Int64Array, KernelOutputs
from compute.flow.formatting import (
    KINDS,
    SIDES,
    STATUSES,
    lone_print_subject,
    packet_event,
    score_inputs,
)
from compute.flow.layout import (
    L_CONTRACT,
    L_COUNT,
    L_DAY_VOLUME,
    L_DTE,
    L_EXPIRY,
    L_INSTRUMENT,
    L_MONEYNESS,
    L_OPEN_INTEREST,
    L_PREMIUM,
    L_RATIO,
    L_RIGHT,
    L_SIDE,
    L_SIZE,
    L_STRIKE,
    L_SYMBOL,
    L_VWAP,
    M_CONTRACT,
    M_INSTRUMENT,
    M_PUBLISHER,
    M_SEQUENCE,
    M_TS_EVENT,
    NULL,
    O_ASK,
    O_ASK_SZ,
    O_BID,
    O_BID_SZ,
    O_INFERENCE,
    O_INSTRUMENT,
    O_LATE,
    O_NAME,
    O_PRICE,
    O_PUBLISHER,
    O_QUOTE_TS,
    O_SEQUENCE,
    O_SIZE,
    O_STATUS,
    O_SYMBOL,
    O_TS_EVENT,
    PK_MULTI_LEG,
    PK_SINGLE,
    Q_BUCKETS,
    Q_BUY,
    Q_COUNT,
    Q_COVERED,
    Q_KIND,
    Q_LATE,
    Q_LEG_COUNT,
    Q_LEGS,
    Q_LEVELS,
    Q_MEMBERS,
    Q_NAME,
    Q_PREMIUM,
    Q_SCORE,
    Q_SELL,
    Q_SIDE,
    Q_SIZE,
    Q_SPOT,
    Q_TS_END,
    Q_TS_RECV,
    Q_TS_START,
    RIGHT_PUT,
)
from compute.flow.preconditions import may_fire
from compute.flow.structures import LegTerms, tag_structure
from schemas import derived_tables as contract
from schemas.events import Event

_SCALE = 10_000
_INFERENCE_SIDES = pa.array([i[0] for i in INFERENCES], pa.string())
_INFERENCE_BUCKETS = pa.array([i[1] for i in INFERENCES], pa.string())
_INFERENCE_RULES = pa.array([i[2] for i in INFERENCES], pa.string())
_INFERENCE_CONFIDENCES = np.array([i[3] for i in INFERENCES], np.float64)
_STATUSES = pa.array(STATUSES, pa.string())
_SIDES = pa.array(SIDES, pa.string())
_KINDS = pa.array(KINDS, pa.string())
_RIGHTS = pa.array(["C", "P"], pa.string())


@dataclass(slots=True)
class FlowTables:
    """One batch's derived tables (without `run_id` / `log_seq`) and its hits and alerts."""

    tables: dict[str, pa.Table]
    hits_and_alerts: list[Event]


def _nullable(values: Int64Array, arrow_type: pa.DataType) -> pa.Array:
    mask = values == NULL
    return pa.array(np.where(mask, 0, values), arrow_type, mask=mask if mask.any() else None)


def _timestamps(values: Int64Array) -> pa.Array:
    return pa.array(values, pa.int64()).view(contract.TIMESTAMP)


class _Strings:
    """Arrow arrays of a state's registries, extended as they grow (a registry only grows)."""

    def __init__(self) -> None:
        self.names = pa.chunked_array([], pa.string())
        self.symbols = pa.chunked_array([], pa.string())
        self.symbol_rights = np.zeros(0, np.int64)

    def refresh(self, state: ColumnarState) -> None:
        self.names = _extended(self.names, state.names)
        self.symbols = _extended(self.symbols, state.symbols)
        known = len(self.symbol_rights)
        if known < len(state.symbols):
            # The right as `print_inference` states it: the OCC symbol's ninth character from
            # the end (what the symbol says, whatever a definition said).
            added = self.symbols[known:].combine_chunks()
            puts = pc.equal(pc.utf8_slice_codeunits(added, -9, -8), "P").fill_null(False)
            rights = puts.to_numpy(zero_copy_only=False).astype(np.int64)
            self.symbol_rights = np.concatenate([self.symbol_rights, rights])

    def name(self, rows: Int64Array) -> pa.Array:
        return _take(self.names, rows)

    def symbol(self, rows: Int64Array) -> pa.Array:
        return _take(self.symbols, rows)


def _take(values: pa.ChunkedArray, rows: Int64Array) -> pa.Array:
    if values.num_chunks == 1:
        return values.chunk(0).take(pa.array(rows))
    return values.take(pa.array(rows)).combine_chunks()


def _extended(known: pa.ChunkedArray, values: list[str]) -> pa.ChunkedArray:
    """`known` (the first values) followed by the rest of `values`, as few chunks."""
    if len(known) == len(values):
        return known
    chunks = [*known.chunks, pa.array(values[len(known) :], pa.string())]
    if len(chunks) > 32:  # a take over a few chunks stays cheap
        chunks = [pa.concat_arrays(chunks)]
    return pa.chunked_array(chunks, pa.string())


def _strings_of(state: ColumnarState) -> _Strings:
    found = state.format_cache
    if not isinstance(found, _Strings):
        found = state.format_cache = _Strings()
    found.refresh(state)
    return found


def print_inference(state: ColumnarState, outputs: KernelOutputs) -> pa.Table:
    """One `print_inference` row per print row, in event order."""
    rows = outputs.prints  # a row per O_* field, a column per print
    strings = _strings_of(state)
    code = pa.array(rows[O_INFERENCE])
    price, size = rows[O_PRICE], rows[O_SIZE]
    if len(price) and int(price.max()) * int(size.max()) * contract.STANDARD_MULTIPLIER >= 2**63:
        premium = pa.array(list(map(contract.premium_cents, price.tolist(), size.tolist())))
    else:
        premium = pa.array(price * size * contract.STANDARD_MULTIPLIER // contract.PREMIUM_DIVISOR)
    columns = [
        pa.array(rows[O_INSTRUMENT], pa.uint32()),
        pa.array(rows[O_PUBLISHER], pa.uint16()),
        _timestamps(rows[O_TS_EVENT].copy()),  # the kernel reuses its buffers
        pa.array(rows[O_SEQUENCE], pa.uint64()),
        strings.name(rows[O_NAME]),
        _RIGHTS.take(pa.array(strings.symbol_rights[rows[O_SYMBOL]])),
        _INFERENCE_SIDES.take(code),
        _INFERENCE_BUCKETS.take(code),
        _INFERENCE_RULES.take(code),
        pa.array(_INFERENCE_CONFIDENCES[rows[O_INFERENCE]]),
        _STATUSES.take(pa.array(rows[O_STATUS])),
        _nullable(rows[O_BID], pa.int64()),
        _nullable(rows[O_ASK], pa.int64()),
        _nullable(rows[O_BID_SZ], pa.uint32()),
        _nullable(rows[O_ASK_SZ], pa.uint32()),
        _nullable(rows[O_QUOTE_TS], pa.int64()).view(contract.TIMESTAMP),
        premium,
        pa.array(rows[O_LATE].astype(bool)),
    ]
    return pa.Table.from_arrays(columns, schema=contract.PRINT_INFERENCE)


def _offsets(counts: Int64Array) -> pa.Array:
    offsets = np.zeros(len(counts) + 1, np.int32)
    np.cumsum(counts, out=offsets[1:])
    return pa.array(offsets)


def _distinct_lists(owner: Int64Array, values: Int64Array, owners: int) -> pa.Array:
    """Per owner 0..owners-1, its distinct values sorted, as a list<uint16> array."""
    pairs = np.unique(owner * (1 << 16) + values)
    counts = np.bincount(pairs >> 16, minlength=owners)
    return pa.ListArray.from_arrays(
        _offsets(counts), pa.array(pairs & 0xFFFF, pa.uint16()), type=pa.list_(pa.uint16())
    )


def flow_tables(state: ColumnarState, outputs: KernelOutputs) -> FlowTables:
    """The batch's derived tables; hits and alerts of the packets a classifier scored.

    A one-print block that can fire no other rule (most blocks) fires the block rule alone:
    its hits are built straight from its rows, without a FlowPacket."""
    cfg, packets = state.config, outputs.packets
    hits: list[Event] = []
    flagged = np.zeros(len(packets), bool)
    packet_ids: dict[int, str] = {}
    fire = may_fire(cfg, packets, outputs.scores)
    candidates = np.flatnonzero(fire.some)
    rows = packets[candidates]
    lone = fire.block_only[candidates] & (rows[:, Q_COUNT] == 1)
    members = iter(outputs.members[rows[lone, Q_MEMBERS]].tolist())
    legs = iter(outputs.legs[rows[lone, Q_LEGS]].tolist())
    for q, row, lone_block in zip(candidates.tolist(), rows.tolist(), lone.tolist(), strict=True):
        if lone_block:
            subject = lone_print_subject(state, row, next(members), next(legs))
            found = [block_hit(cfg, row[Q_SIZE], row[Q_PREMIUM])]
        else:
            packet = packet_event(state, outputs, q)
            subject = subject_of(packet)
            found = classify(cfg, packet, score_inputs(outputs.scores[row[Q_SCORE]].tolist()))
        if found:
            flagged[q] = True
            packet_ids[q] = subject.packet_id
            emit_hits(cfg, state.run_id, subject, found, hits)
    tables = {"print_inference": print_inference(state, outputs)}
    keep = flagged | (packets[:, Q_KIND] != PK_SINGLE) | (packets[:, Q_COUNT] > 1)
    if keep.any():
        tables.update(_packet_tables(state, outputs, np.flatnonzero(keep), packet_ids))
    return FlowTables(tables, hits)


def _packet_tables(
    state: ColumnarState, outputs: KernelOutputs, kept: Int64Array, known_ids: dict[int, str]
) -> dict[str, pa.Table]:
    """The rows of packets `kept`; `known_ids`: ids of some packets, computed already."""
    strings = _strings_of(state)
    rows = outputs.packets[kept]
    members = outputs.members
    n = len(rows)
    counts = rows[:, Q_COUNT]
    # members of the kept packets, in packet order, and the packet each belongs to
    owner = np.repeat(np.arange(n), counts)
    starts = np.repeat(rows[:, Q_MEMBERS] - np.cumsum(counts) + counts, counts)
    member_rows = members[starts + np.arange(len(owner))]
    heads = members[rows[:, Q_MEMBERS]]
    run_id = state.run_id
    keys = heads[:, [M_INSTRUMENT, M_PUBLISHER, M_TS_EVENT, M_SEQUENCE]].tolist()
    packet_ids = pa.array(
        [
            known_ids.get(q) or contract.packet_id_of_print(run_id, *key)
            for q, key in zip(kept.tolist(), keys, strict=True)
        ],
        pa.string(),
    )
    # legs of the kept packets, and the leg each member prints on
    leg_counts = rows[:, Q_LEG_COUNT]
    leg_owner = np.repeat(np.arange(n), leg_counts)
    leg_starts = np.repeat(rows[:, Q_LEGS] - np.cumsum(leg_counts) + leg_counts, leg_counts)
    legs = outputs.legs[leg_starts + np.arange(len(leg_owner))]
    width = max(int(state.contracts.shape[0]), 1)
    leg_keys = leg_owner * width + legs[:, L_CONTRACT]
    order = np.argsort(leg_keys, kind="stable")
    member_leg = order[np.searchsorted(leg_keys[order], owner * width + member_rows[:, M_CONTRACT])]
    structures = [""] * n
    for i in np.flatnonzero(rows[:, Q_KIND] == PK_MULTI_LEG).tolist():
        mine = legs[leg_owner == i]
        structures[i] = tag_structure(
            [
                LegTerms(
                    "P" if leg[L_RIGHT] == RIGHT_PUT else "C",
                    leg[L_STRIKE],
                    leg[L_EXPIRY],
                    SIDES[leg[L_SIDE]],
                    leg[L_RATIO],
                )
                for leg in mine.tolist()
            ]
        )
    leg_struct = pa.StructArray.from_arrays(
        [
            pa.array(legs[:, L_INSTRUMENT], pa.uint32()),
            strings.symbol(legs[:, L_SYMBOL]),
            _RIGHTS.take(pa.array((legs[:, L_RIGHT] == RIGHT_PUT).astype(np.int64))),
            pa.array(legs[:, L_STRIKE], pa.int64()),
            pa.array(legs[:, L_EXPIRY], pa.uint32()),
            _SIDES.take(pa.array(legs[:, L_SIDE])),
            pa.array(legs[:, L_SIZE], pa.uint64()),
            pa.array(legs[:, L_PREMIUM], pa.int64()),
            pa.array(legs[:, L_COUNT], pa.uint32()),
            _distinct_lists(member_leg, member_rows[:, M_PUBLISHER], len(legs)),
            pa.array(legs[:, L_VWAP], pa.int64()),
            pa.array(legs[:, L_RATIO], pa.uint32()),
            _moneyness(legs[:, L_MONEYNESS]),
            _nullable(legs[:, L_DTE], pa.int32()),
            pa.array(legs[:, L_DAY_VOLUME], pa.uint64()),
            _nullable(legs[:, L_OPEN_INTEREST], pa.uint64()),
        ],
        fields=list(contract.LEG),
    )
    # The struct engine's special cases (a lone print: 1.0 or 0.0; every print covered: 1.0)
    # are what the exact ratio gives anyway; sizes and counts are positive.
    size = rows[:, Q_SIZE]
    aggressor = fixed_ratios(np.maximum(rows[:, Q_BUY], rows[:, Q_SELL]), size)
    coverage = fixed_ratios(rows[:, Q_COVERED], counts)
    flow_packets = pa.Table.from_arrays(
        [
            packet_ids,
            _KINDS.take(pa.array(rows[:, Q_KIND])),
            pa.array(structures, pa.string()),
            strings.name(rows[:, Q_NAME]),
            _timestamps(rows[:, Q_TS_START]),
            _timestamps(rows[:, Q_TS_END]),
            _timestamps(rows[:, Q_TS_RECV]),
            _SIDES.take(pa.array(rows[:, Q_SIDE])),
            pa.array(rows[:, Q_PREMIUM], pa.int64()),
            pa.array(size, pa.uint64()),
            pa.array(counts, pa.uint32()),
            _distinct_lists(owner, member_rows[:, M_PUBLISHER], n),
            pa.array(rows[:, Q_LEVELS], pa.uint32()),
            pa.ListArray.from_arrays(_offsets(leg_counts), leg_struct, type=pa.list_(contract.LEG)),
            *(pa.array(rows[:, Q_BUCKETS + b], pa.uint32()) for b in range(6)),
            pa.array(aggressor),
            pa.array(coverage),
            _nullable(rows[:, Q_SPOT], pa.int64()),
            pa.array(rows[:, Q_LATE].astype(bool)),
        ],
        schema=contract.FLOW_PACKETS,
    )
    owners = pa.array(owner)
    packet_prints = pa.Table.from_arrays(
        [
            packet_ids.take(owners),
            _timestamps(rows[:, Q_TS_START]).take(owners),
            pa.array(member_rows[:, M_INSTRUMENT], pa.uint32()),
            pa.array(member_rows[:, M_PUBLISHER], pa.uint16()),
            _timestamps(member_rows[:, M_TS_EVENT]),
            pa.array(member_rows[:, M_SEQUENCE], pa.uint64()),
        ],
        schema=contract.PACKET_PRINTS,
    )
    return {"flow_packets": flow_packets, "packet_prints": packet_prints}


def _moneyness(values: Int64Array) -> pa.Array:
    mask = values == NULL
    return pa.array(
        np.where(mask, 0, values) / _SCALE, pa.float64(), mask=mask if mask.any() else None
    )
