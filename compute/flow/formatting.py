"""The kernel's output rows as the struct engine's events: the same PrintInference,
FlowPacket (members, legs), ClassifierHit, Alert and Quarantined, field for field.

Formatting changes no state: ids, structure tags, venue lists, ratios and the classifiers'
rules are functions of the rows, which already hold every fact of the state they need.
"""

from __future__ import annotations

from collections.abc import Sequence

from compute.flow.aggressor import INFERENCES
from compute.flow.baselines import RingSums, fixed_ratio
from compute.flow.classifiers import (
    HitSubject,
    ScoreInputs,
    UnusualVolume,
    classify,
    emit_hits,
    subject_of,
)
from compute.flow.columnar import ColumnarState, KernelOutputs
from compute.flow.darkpool import CAVEAT_BLOCK, CAVEAT_EPISODE
from compute.flow.layout import (
    D_COUNT,
    D_IMPACT,
    D_KIND,
    D_MEMBERS,
    D_NAME,
    D_NOTIONAL,
    D_QUOTE_1,
    D_QUOTED,
    D_QUOTES,
    D_SIZE,
    D_TS_END,
    D_TS_RECV,
    D_TS_START,
    DK_ABSORBED_BLOCK,
    I_TS_RECV,
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
    LIMB,
    M_ASK,
    M_BID,
    M_BUCKET,
    M_INSTRUMENT,
    M_PRICE,
    M_PUBLISHER,
    M_SEQUENCE,
    M_SIDE,
    M_SIZE,
    M_TS_EVENT,
    NULL,
    O_ASK,
    O_ASK_SZ,
    O_BID,
    O_BID_SZ,
    O_CONTRACT,
    O_EVENT,
    O_INFERENCE,
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
    QF_ASK,
    QF_BID,
    QF_PUBLISHER,
    QF_TS,
    R_FIRST_OPEN_INTEREST,
    R_N,
    R_P_SUM,
    R_S_SUM,
    R_U_AVG_LIMIT,
    R_U_OPEN_INTEREST,
    R_U_PAST_DAYS,
    R_U_PAST_TOTAL,
    R_U_VOLUME,
    R_UNUSUAL,
    REASONS,
    RIGHT_PUT,
)
from compute.flow.packets import BUCKETS
from compute.flow.structures import LegTerms, tag_structure
from schemas.codec import encode_event
from schemas.derived_tables import packet_id_of_print
from schemas.events import (
    FIXED_DIGITS,
    DarkPoolEvent,
    Event,
    FlowPacket,
    MemberPrint,
    NbboStatus,
    PacketKind,
    PacketLeg,
    PrintInference,
    Quarantined,
    QuoteRef,
    Right,
    Side,
)
from schemas.ids import make_id

STATUSES: tuple[NbboStatus, ...] = ("print", "joined", "held", "stale", "missing", "crossed")
SIDES: tuple[Side, ...] = ("buy", "sell", "unknown", "mixed")  # type: ignore[assignment]
KINDS: tuple[PacketKind, ...] = ("single", "block", "split", "sweep", "multi_leg")


def _opt(value: int) -> int | None:
    return None if value == NULL else value


def _ratio(value: int) -> float | None:
    return None if value == NULL else value / 10_000


def print_inferences(state: ColumnarState, outputs: KernelOutputs) -> list[PrintInference]:
    """One PrintInference per print, in event order."""
    run_id = state.run_id
    symbols, names, iids = state.symbols, state.names, state.instrument_ids
    found: list[PrintInference] = []
    for row in outputs.prints.T.tolist():
        side, bucket, rule, confidence = INFERENCES[row[O_INFERENCE]]
        found.append(
            PrintInference(
                outputs.events[row[O_EVENT], I_TS_RECV].item(),
                run_id,
                row[O_TS_EVENT],
                row[O_PUBLISHER],
                iids[row[O_CONTRACT]],
                row[O_SEQUENCE],
                symbols[row[O_SYMBOL]],
                names[row[O_NAME]],
                row[O_PRICE],
                row[O_SIZE],
                side,
                bucket,
                rule,
                confidence,
                STATUSES[row[O_STATUS]],
                _opt(row[O_BID]),
                _opt(row[O_ASK]),
                _opt(row[O_BID_SZ]),
                _opt(row[O_ASK_SZ]),
                _opt(row[O_QUOTE_TS]),
                bool(row[O_LATE]),
            )
        )
    return found


def _members(rows: list[list[int]]) -> list[MemberPrint]:
    return [
        MemberPrint(
            m[M_INSTRUMENT],
            m[M_PUBLISHER],
            m[M_TS_EVENT],
            m[M_SEQUENCE],
            m[M_PRICE],
            m[M_SIZE],
            SIDES[m[M_SIDE]],
            BUCKETS[m[M_BUCKET]],  # type: ignore[arg-type]
            _opt(m[M_BID]),
            _opt(m[M_ASK]),
        )
        for m in rows
    ]


def lone_print_subject(
    state: ColumnarState, q: list[int], member: list[int], leg: list[int]
) -> HitSubject:
    """What the hits of a one-print packet (not a multi-leg order) say of it: the same as
    `subject_of` its FlowPacket, from packet row `q`, its member row and its leg row."""
    kind = KINDS[q[Q_KIND]]
    return HitSubject(
        q[Q_TS_RECV],
        packet_id_of_print(
            state.run_id,
            member[M_INSTRUMENT],
            member[M_PUBLISHER],
            member[M_TS_EVENT],
            member[M_SEQUENCE],
        ),
        q[Q_TS_START],
        state.names[q[Q_NAME]],
        kind,
        q[Q_PREMIUM],
        q[Q_SIZE],
        _members([member]),
        kind,
        SIDES[q[Q_SIDE]],
        "P" if leg[L_RIGHT] == RIGHT_PUT else "C",
    )


def flow_events(state: ColumnarState, outputs: KernelOutputs) -> list[Event]:
    """Each emitted packet with its hits and alert, in emission order."""
    cfg = state.config
    members = outputs.members.tolist()
    legs = outputs.legs.tolist()
    scores = outputs.scores.tolist()
    out: list[Event] = []
    for q in outputs.packets.tolist():
        first, first_leg = q[Q_MEMBERS], q[Q_LEGS]
        packet = _packet(
            state,
            q,
            members[first : first + q[Q_COUNT]],
            legs[first_leg : first_leg + q[Q_LEG_COUNT]],
        )
        out.append(packet)
        if q[Q_SCORE] >= 0:
            hits = classify(cfg, packet, score_inputs(scores[q[Q_SCORE]]))
            if hits:
                emit_hits(cfg, state.run_id, subject_of(packet), hits, out)
    return out


def packet_event(state: ColumnarState, outputs: KernelOutputs, q: int) -> FlowPacket:
    """Packet row `q` as a FlowPacket."""
    row = outputs.packets[q].tolist()
    first, count = row[Q_MEMBERS], row[Q_COUNT]
    members = outputs.members[first : first + count].tolist()
    first_leg = row[Q_LEGS]
    legs = outputs.legs[first_leg : first_leg + row[Q_LEG_COUNT]].tolist()
    return _packet(state, row, members, legs)


def _packet(
    state: ColumnarState, q: list[int], member_rows: list[list[int]], leg_rows: list[list[int]]
) -> FlowPacket:
    """A packet row as a FlowPacket, with its own member and leg rows."""
    run_id = state.run_id
    kind = q[Q_KIND]
    n = q[Q_COUNT]
    members = _members(member_rows)
    size, buy, sell, covered = q[Q_SIZE], q[Q_BUY], q[Q_SELL], q[Q_COVERED]
    legs: list[PacketLeg] = []
    terms: list[LegTerms] = []
    for leg in leg_rows:
        iid = leg[L_INSTRUMENT]
        venues = sorted({m.publisher_id for m in members if m.instrument_id == iid})
        right: Right = "P" if leg[L_RIGHT] == RIGHT_PUT else "C"
        legs.append(
            PacketLeg(
                iid,
                state.symbols[leg[L_SYMBOL]],
                right,
                leg[L_STRIKE],
                leg[L_EXPIRY],
                SIDES[leg[L_SIDE]],
                leg[L_SIZE],
                leg[L_PREMIUM],
                leg[L_COUNT],
                venues,
                leg[L_VWAP],
                leg[L_RATIO],
                _ratio(leg[L_MONEYNESS]),
                _opt(leg[L_DTE]),
                leg[L_DAY_VOLUME],
                _opt(leg[L_OPEN_INTEREST]),
            )
        )
        terms.append(
            LegTerms(right, leg[L_STRIKE], leg[L_EXPIRY], SIDES[leg[L_SIDE]], leg[L_RATIO])
        )
    if kind == PK_MULTI_LEG:
        structure = tag_structure(terms)
        aggressor = fixed_ratio(max(buy, sell), size) if size else 0.0
        coverage = fixed_ratio(covered, n)
    else:
        structure = ""
        if n > 1:
            aggressor = fixed_ratio(buy if buy > sell else sell, size)
        else:
            aggressor = 0.0 if buy == sell else 1.0
        coverage = 1.0 if covered == n else fixed_ratio(covered, n)
    head = members[0]
    buckets = q[Q_BUCKETS : Q_BUCKETS + 6]
    return FlowPacket(
        q[Q_TS_RECV],
        packet_id_of_print(
            run_id, head.instrument_id, head.publisher_id, head.ts_event, head.sequence
        ),
        run_id,
        KINDS[kind],
        structure,
        state.names[q[Q_NAME]],
        q[Q_TS_START],
        q[Q_TS_END],
        SIDES[q[Q_SIDE]],
        q[Q_PREMIUM],
        size,
        n,
        sorted({m.publisher_id for m in members}),
        q[Q_LEVELS],
        legs,
        {BUCKETS[i]: buckets[i] for i in range(6) if buckets[i]},
        aggressor,
        coverage,
        _opt(q[Q_SPOT]),
        members,
        bool(q[Q_LATE]),
    )


def _sums(row: list[int], at: int, n: int) -> RingSums:
    squares = (row[at + 1] * LIMB + row[at + 2]) * LIMB + row[at + 3]
    return RingSums(n, row[at], squares)


def score_inputs(row: list[int]) -> ScoreInputs:
    """A score row as what the classifiers read."""
    n = row[R_N]
    unusual = None
    if row[R_UNUSUAL]:
        unusual = UnusualVolume(
            row[R_U_VOLUME],
            _opt(row[R_U_OPEN_INTEREST]),
            row[R_U_PAST_TOTAL],
            row[R_U_PAST_DAYS],
            row[R_U_AVG_LIMIT],
        )
    return ScoreInputs(
        _sums(row, R_P_SUM, n), _sums(row, R_S_SUM, n), _opt(row[R_FIRST_OPEN_INTEREST]), unusual
    )


def quarantined(
    state: ColumnarState, outputs: KernelOutputs, originals: Sequence[Event]
) -> list[Quarantined]:
    """The batch's quarantined events, with the original event as the payload."""
    found: list[Quarantined] = []
    for event_index, reason in outputs.quarantined.tolist():
        event = originals[event_index]
        found.append(
            Quarantined(
                ts_recv=event.ts_recv,
                source="compute",
                reason=REASONS[reason],
                detail=_detail(event, REASONS[reason]),
                payload=encode_event(event),
            )
        )
    return found


def _detail(event: Event, reason: str) -> str:
    if reason == "unknown_contract":
        return f"instrument_id {event.instrument_id}"  # type: ignore[attr-defined]
    if reason == "bad_print":
        return f"price {event.price} size {event.size}"  # type: ignore[attr-defined]
    return type(event).__name__


DARK_KINDS = ("absorbed_block", "stealth_accumulation", "distribution")


def dark_events(state: ColumnarState, outputs: KernelOutputs) -> list[DarkPoolEvent]:
    """Each dark-pool event, in the order its window was judged."""
    run_id = state.run_id
    members_all = outputs.dark_members.tolist()
    found: list[DarkPoolEvent] = []
    for d in outputs.dark.tolist():
        kind = DARK_KINDS[d[D_KIND]]
        symbol = state.names[d[D_NAME]]
        n = d[D_COUNT]
        members = _members(members_all[d[D_MEMBERS] : d[D_MEMBERS] + n])
        quotes = [
            QuoteRef(q[QF_PUBLISHER], q[QF_TS], _opt(q[QF_BID]), _opt(q[QF_ASK]))
            for q in (d[D_QUOTE_1 + 4 * k : D_QUOTE_1 + 4 * k + 4] for k in range(d[D_QUOTES]))
        ]
        if d[D_KIND] == DK_ABSORBED_BLOCK:
            confidence = 0.6 if d[D_QUOTED] else 0.4
            caveats = CAVEAT_BLOCK
        else:
            confidence = round(min(0.7, 0.3 + 0.01 * n), FIXED_DIGITS)
            caveats = CAVEAT_EPISODE
        first = members[0]
        found.append(
            DarkPoolEvent(
                d[D_TS_RECV],
                make_id(
                    "darkpool_event",
                    run_id,
                    kind,
                    symbol,
                    first.publisher_id,
                    first.ts_event,
                    first.sequence,
                ),  # fmt: skip
                run_id,
                kind,
                symbol,
                d[D_TS_START],
                d[D_TS_END],
                d[D_SIZE],
                d[D_NOTIONAL],
                n,
                d[D_IMPACT] / 10_000,
                confidence,
                members,
                quotes,
                caveats,
            )
        )
    return found


def to_events(
    state: ColumnarState, outputs: KernelOutputs, originals: Sequence[Event]
) -> dict[type[Event], list[Event]]:
    """Every output event of a batch, grouped by type (each group in emission order)."""
    grouped: dict[type[Event], list[Event]] = {}
    for event in [
        *quarantined(state, outputs, originals),
        *print_inferences(state, outputs),
        *flow_events(state, outputs),
        *dark_events(state, outputs),
    ]:
        grouped.setdefault(type(event), []).append(event)
    return grouped
