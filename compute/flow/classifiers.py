"""Classifiers over a closed packet: sweep, block, spike, golden sweep, repeated hits and
unusual volume, scored against the underlying's rolling baselines, then hits and alerts.

Each hit carries its evidence: the thresholds that fired and the baseline values (with the
exact sums behind every z-score) it was compared to.
"""

from __future__ import annotations

from typing import NamedTuple

from compute.flow.baselines import (
    RingSums,
    baseline_value,
    fixed_ratio,
    push_samples,
    ring_reset,
    ring_sums,
)
from compute.flow.config import EngineConfig
from compute.flow.state import ContractState, EngineState, Ring, UnderlyingBaselines
from schemas.events import (
    FIXED_DIGITS,
    Alert,
    BaselineValue,
    ClassifierHit,
    Event,
    FlowPacket,
    MemberPrint,
)
from schemas.ids import make_id


def _baselines(state: EngineState, underlying: str, ts: int) -> UnderlyingBaselines:
    found = state.baselines.get(underlying)
    if found is None:
        found = UnderlyingBaselines(ts, Ring([]), Ring([]), Ring([]))
        state.baselines[underlying] = found
    elif ts - found.last_ts > state.config.rolling_ttl_ns:
        # Expiry is measured in event time, so a replay expires exactly where live did.
        ring_reset(found.premium)
        ring_reset(found.size)
        ring_reset(found.spread)
    if ts > found.last_ts:
        found.last_ts = ts
    return found


def _max_in_window(members: list[MemberPrint], window_ns: int) -> int:
    times = sorted(m.ts_event for m in members)
    best = 0
    lo = 0
    for hi, ts in enumerate(times):
        while ts - times[lo] > window_ns:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


class UnusualVolume(NamedTuple):
    """A contract's volume facts at the packet that made its day unusual."""

    volume: int
    open_interest: int | None
    past_total: int
    past_days: int
    avg_limit: int


class ScoreInputs(NamedTuple):
    """What the classifiers read of the engine's state besides the packet itself."""

    premium: RingSums  # the underlying's baselines before this packet
    size: RingSums
    first_open_interest: int | None  # of the first leg's contract
    unusual: UnusualVolume | None  # set when this packet made a contract's day unusual


def score_packet(
    state: EngineState,
    packet: FlowPacket,
    spread_bps: int,
    leg_contracts: list[ContractState],
    day: int,
    ts_first: int,
    out: list[Event],
) -> None:
    """The state scoring changes (baselines, a contract's unusual day), then the hits."""
    cfg = state.config
    underlying = packet.underlying
    base = state.baselines.get(underlying)
    if base is None or ts_first - base.last_ts > cfg.rolling_ttl_ns:
        base = _baselines(state, underlying, ts_first)
    elif ts_first > base.last_ts:
        base.last_ts = ts_first
    unusual: UnusualVolume | None = None
    for c in leg_contracts:
        # Once per contract and day: the packet whose volume makes the day unusual.
        if c.unusual_day != day:
            oi = c.open_interest
            if (oi is not None and c.day_volume > oi) or c.day_volume > c.avg_volume_limit:
                c.unusual_day = day
                unusual = UnusualVolume(
                    c.day_volume, oi, c.past_volume_total, len(c.past_volumes),
                    c.avg_volume_limit,
                )  # fmt: skip
                break
    inputs = ScoreInputs(
        ring_sums(base.premium), ring_sums(base.size), leg_contracts[0].open_interest, unusual
    )
    if not packet.late:
        push_samples(base, packet.premium_cents, packet.size, spread_bps, cfg.rolling_window_size)
    hits = classify(cfg, packet, inputs)
    if hits:
        emit_hits(cfg, state.run_id, subject_of(packet), hits, out)


Hit = tuple[str, float, dict[str, float], list[BaselineValue]]


def classify(cfg: EngineConfig, packet: FlowPacket, inputs: ScoreInputs) -> list[Hit]:
    """The rules a closed packet fires, each with its score and evidence (no state)."""
    underlying = packet.underlying
    kind = packet.kind
    premium = packet.premium_cents
    size = packet.size
    n = packet.n_prints
    hits: list[Hit] = []
    zmin = cfg.classifier_z_min_samples
    if (
        kind == "sweep"
        and premium >= cfg.classifier_sweep_min_premium_cents
        and n >= cfg.classifier_sweep_min_count
        and packet.nbbo_coverage >= cfg.classifier_min_nbbo_coverage
        and packet.aggressor_ratio >= cfg.classifier_min_aggressor_ratio
    ):
        pz = baseline_value(inputs.premium, underlying, "premium", premium, zmin)
        if pz.z is None or pz.z >= cfg.classifier_sweep_min_premium_z:
            thresholds: dict[str, float] = {
                "min_premium_cents": float(cfg.classifier_sweep_min_premium_cents),
                "min_count": float(cfg.classifier_sweep_min_count),
                "min_nbbo_coverage": cfg.classifier_min_nbbo_coverage,
                "min_aggressor_ratio": cfg.classifier_min_aggressor_ratio,
            }
            if pz.z is not None:
                thresholds["min_premium_z"] = cfg.classifier_sweep_min_premium_z
            score = fixed_ratio(premium, cfg.classifier_sweep_min_premium_cents)
            hits.append(("sweep", score, thresholds, [pz]))
        oi = inputs.first_open_interest
        golden = cfg.classifier_golden_sweep_min_premium_cents
        # Golden: any qualifying sweep, however usual its premium is for the underlying.
        if premium > golden and oi is not None and size > oi:
            thresholds = {"min_premium_cents": float(golden), "open_interest": float(oi)}
            score = fixed_ratio(premium, golden)
            hits.append(("golden_sweep", score, thresholds, [pz]))
    if premium >= cfg.classifier_spike_min_premium_cents and size >= cfg.classifier_spike_min_size:
        pz = baseline_value(inputs.premium, underlying, "premium", premium, zmin)
        sz = baseline_value(inputs.size, underlying, "size", size, zmin)
        if (
            pz.z is not None
            and sz.z is not None
            and pz.z >= cfg.classifier_spike_min_premium_z
            and sz.z >= cfg.classifier_spike_min_size_z
        ):
            thresholds = {
                "min_premium_cents": float(cfg.classifier_spike_min_premium_cents),
                "min_size": float(cfg.classifier_spike_min_size),
                "min_premium_z": cfg.classifier_spike_min_premium_z,
                "min_size_z": cfg.classifier_spike_min_size_z,
            }
            hits.append(("spike", pz.z, thresholds, [pz, sz]))
    if kind == "block":
        hits.append(block_hit(cfg, size, premium))
    if kind != "multi_leg" and n >= cfg.classifier_repeated_hits_min_prints:
        floor = cfg.tier_floor_cents(underlying)
        if premium >= floor:
            count = _max_in_window(packet.members, cfg.classifier_repeated_hits_window_ns)
            if count >= cfg.classifier_repeated_hits_min_prints:
                thresholds = {
                    "min_prints": float(cfg.classifier_repeated_hits_min_prints),
                    "window_ns": float(cfg.classifier_repeated_hits_window_ns),
                    "min_premium_cents": float(floor),
                }
                score = fixed_ratio(count, cfg.classifier_repeated_hits_min_prints)
                hits.append(("repeated_hits", score, thresholds, []))
    if inputs.unusual is not None:
        hits.append(("unusual_volume", *_unusual_volume(inputs.unusual, cfg), []))
    return hits


def block_hit(cfg: EngineConfig, size: int, premium: int) -> Hit:
    """The block rule's hit (it fires on every block): scored by the larger of the size and
    premium ratios to the block thresholds."""
    ratio = max(size / cfg.block_min_size, premium / cfg.block_min_premium_cents)
    score = round(ratio, FIXED_DIGITS)
    thresholds = {
        "min_size": float(cfg.block_min_size),
        "min_premium_cents": float(cfg.block_min_premium_cents),
    }
    return ("block", score, thresholds, [])


def _unusual_volume(facts: UnusualVolume, cfg: EngineConfig) -> tuple[float, dict[str, float]]:
    """(score, evidence) of a day volume over the open interest or over the multiple of the
    average daily volume; the score is the larger ratio."""
    volume = facts.volume
    oi = facts.open_interest
    over_oi = oi is not None and volume > oi
    over_average = volume > facts.avg_limit
    thresholds: dict[str, float] = {}
    score = 0.0
    if oi is not None and over_oi:
        thresholds["open_interest"] = float(oi)
        score = fixed_ratio(volume, oi) if oi else float(volume)
    thresholds["day_volume"] = float(volume)
    if over_average:
        days = facts.past_days
        thresholds["average_volume"] = fixed_ratio(facts.past_total, days)
        thresholds["average_days"] = float(days)
        thresholds["average_multiple"] = cfg.unusual_volume_multiple
        score = max(score, fixed_ratio(volume * days, facts.past_total))
    return score, thresholds


class HitSubject(NamedTuple):
    """What a packet's hits and alert say of it."""

    ts_recv: int
    packet_id: str
    ts_start: int
    underlying: str
    kind: str
    premium_cents: int
    size: int
    members: list[MemberPrint]
    what: str  # the structure, else the kind
    side: str
    rights: str  # its legs' rights, sorted, "/"-joined


def subject_of(packet: FlowPacket) -> HitSubject:
    return HitSubject(
        packet.ts_recv,
        packet.packet_id,
        packet.ts_start,
        packet.underlying,
        packet.kind,
        packet.premium_cents,
        packet.size,
        packet.members,
        packet.structure or packet.kind,
        packet.side,
        "/".join(sorted({leg.right for leg in packet.legs})),
    )


def emit_hits(
    cfg: EngineConfig, run_id: str, subject: HitSubject, hits: list[Hit], out: list[Event]
) -> None:
    """One ClassifierHit per rule that fired on a packet, then the packet's Alert."""
    hit_ids: list[str] = []
    rules: list[str] = []
    merged: dict[str, float] = {}
    baselines: list[BaselineValue] = []
    seen_metrics: set[str] = set()
    weight = 0
    score = 0.0
    for rule, hit_score, thresholds, values in hits:
        hit_id = make_id("classifier_hit", run_id, subject.packet_id, rule)
        out.append(
            ClassifierHit(
                subject.ts_recv,
                hit_id,
                run_id,
                subject.packet_id,
                rule,
                subject.ts_start,
                subject.underlying,
                subject.kind,
                subject.premium_cents,
                subject.size,
                hit_score,
                thresholds,
                values,
                subject.members,
            )
        )
        hit_ids.append(hit_id)
        rules.append(rule)
        for name, value in thresholds.items():
            merged[f"{rule}.{name}"] = value
        for baseline in values:
            if baseline.metric not in seen_metrics:
                seen_metrics.add(baseline.metric)
                baselines.append(baseline)
        weight += cfg.rule_weights.get(rule, 1)
        score += hit_score
    severity = min(5, max(1, weight))
    dollars = subject.premium_cents // 100
    title = (
        f"{subject.underlying} {subject.rights} {subject.what} {subject.side} ${dollars:,}: "
        f"{', '.join(rules)}"
    )
    out.append(
        Alert(
            subject.ts_recv,
            make_id("alert", run_id, subject.packet_id),
            run_id,
            subject.packet_id,
            subject.ts_start,
            subject.underlying,
            severity,
            round(score, FIXED_DIGITS),
            rules,
            hit_ids,
            title,
            merged,
            baselines,
            subject.members,
        )
    )
