"""Generate one synthetic session and write it as Databento DBN files plus `labels.jsonl`."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from schemas.labels import (
    SIDES_FILE,
    Label,
    LabelLeg,
    LabelMember,
    PrintSide,
    encode_labels,
    encode_sides,
)
from synth import dbn
from synth.columns import SERIES_LIMIT
from synth.config import SynthConfig
from synth.equities import (
    DARK_DATASET,
    EquityPlan,
    EquityTape,
    build_equities,
    dark_buckets,
    equity_files,
    plan_equity_events,
)
from synth.hard import HardPlanter, plant_hard
from synth.options import (
    DATASET as OPRA_DATASET,
)
from synth.options import (
    OptionPrints,
    build_options,
    cmbp1_file,
    definition_file,
    option_buckets,
    statistics_file,
    tcbbo_file,
    trades_file,
)
from synth.planted import PROBE_VARIANTS, SIDE_NAME, STRUCTURES, Draft, OptionPlanter
from synth.universe import (
    NEW_YORK,
    NS,
    OPRA_VENUES,
    Universe,
    build_universe,
    publisher_id,
    spot_at,
    spot_paths,
)

TRADING_MINUTES_PER_YEAR = 252 * 390
LABELS_FILE = "labels.jsonl"
PRE_OPEN_NS = 3 * 3600 * NS  # definitions and OI arrive this long before the open (~06:30)

# Told what is under way, how much of it is done and out of what total: (what, done, total).
ProgressReport = Callable[[str, int, int], None]
GENERATION_STEPS = (
    "universe", "price paths", "planted events", "option quotes and prints", "equity tape",
    "DBN records", "labels",
)  # fmt: skip


@dataclass
class SyntheticSession:
    """A generated session: one record array per output file (ts_recv order) and the labels.

    `sides` is the true aggressor of every option print whose side is known, in ts_recv order
    (hard profile; None on the standard one, whose labels give the planted prints' sides).
    """

    config: SynthConfig
    date: dt.date
    files: dict[str, dbn.DbnFile]  # keyed "DATASET/schema", e.g. "OPRA.PILLAR/tcbbo"
    labels: list[Label]
    open_ns: int
    close_ns: int
    sides: list[PrintSide] | None = None

    def file(self, dataset: str, schema: str) -> dbn.DbnFile:
        """The output file of `dataset` and `schema`."""
        return self.files[f"{dataset}/{schema}"]


def _open_ns(config: SynthConfig) -> int:
    date = config.session_date()
    hours, minutes = (int(x) for x in config.start.split(":"))
    start = dt.datetime(date.year, date.month, date.day, hours, minutes, tzinfo=NEW_YORK)
    return int(start.timestamp()) * NS


def first_record_ns(config: SynthConfig) -> int:
    """The receive time of the session's first record (its pre-open reference data)."""
    return _open_ns(config) - PRE_OPEN_NS


def _report_step(report: ProgressReport, step: int) -> None:
    total = len(GENERATION_STEPS)
    report(GENERATION_STEPS[min(step, total - 1)], step, total)


def generate_session(
    config: SynthConfig, progress: ProgressReport | None = None
) -> SyntheticSession:
    """A deterministic session: the same config (seed included) gives byte-identical files.
    `progress` is told each of `GENERATION_STEPS` as it starts, and the last as it ends."""
    config.validate()
    report = progress or _unwatched
    _report_step(report, 0)
    date = config.session_date()
    rng = random.Random(config.seed)  # noqa: S311  (a reproducible simulation, not security)
    nprng = np.random.default_rng(rng.getrandbits(64))
    open_ns = _open_ns(config)
    duration_ns = config.minutes * 60 * NS
    n_per_kind = config.n_planted()

    universe = build_universe(
        rng, date, config.n_underlyings, config.n_expiries, config.strikes_per_side
    )
    if universe.n_contracts > SERIES_LIMIT:
        raise ValueError(f"{universe.n_contracts} contracts; at most {SERIES_LIMIT} are supported")
    _report_step(report, 1)
    paths = spot_paths(nprng, universe, config.minutes * 60, TRADING_MINUTES_PER_YEAR)
    plans = plan_equity_events(rng, universe, paths, duration_ns, n_per_kind)

    _report_step(report, 2)
    venues = [publisher_id(name) for name, _ in OPRA_VENUES]
    venue_w = [w for _, w in OPRA_VENUES]
    hard = config.profile == "hard"
    planter: OptionPlanter
    if hard:
        planter = HardPlanter(rng, universe, paths, open_ns, duration_ns, venues, venue_w)
        plant_hard(rng, planter, duration_ns, n_per_kind, config.distractor_share)
    else:
        planter = OptionPlanter(rng, universe, paths, open_ns, duration_ns, venues, venue_w)
        _plant_options(rng, planter, config, duration_ns, n_per_kind)

    _report_step(report, 3)
    quotes, prints = build_options(
        nprng,
        universe,
        paths,
        open_ns,
        duration_ns,
        config.option_prints_per_second,
        config.option_quotes_per_print,
        planter,
        np.array(venues, dtype=np.int64),
        np.array(venue_w),
        hard=hard,
    )
    _report_step(report, 4)
    tape = build_equities(
        nprng,
        universe,
        paths,
        open_ns,
        duration_ns,
        config.equity_quotes_per_second,
        config.equity_prints_per_second,
        config.dark_prints_per_second,
        plans,
    )

    _report_step(report, 5)
    open_interest = _open_interest(nprng, universe, planter.oi_override)
    pre_open = open_ns - PRE_OPEN_NS
    opra_files = [
        definition_file(universe, pre_open),
        statistics_file(nprng, universe, open_interest, np.array(venues), pre_open + 60 * NS),
        cmbp1_file(universe, quotes),
        tcbbo_file(universe, prints),
        trades_file(universe, prints),
    ]
    files = {f"{f.dataset}/{f.schema}": f for f in [*opra_files, *equity_files(universe, tape)]}

    _report_step(report, 6)
    labels = _option_labels(planter, universe, prints, open_interest)
    labels += _equity_labels(plans, universe, tape, paths, duration_ns)
    labels.sort(key=lambda label: (label.ts_start, label.label_id))
    sides = _print_sides(universe, prints) if hard else None
    _report_step(report, len(GENERATION_STEPS))
    return SyntheticSession(config, date, files, labels, open_ns, open_ns + duration_ns, sides)


def write_session(
    session: SyntheticSession, out_dir: Path, progress: ProgressReport | None = None
) -> list[Path]:
    """Write every DBN file, `labels.jsonl` and (hard profile) `sides.jsonl` into `out_dir`;
    returns the paths written. `progress` is told each file as it starts and the records
    (labels, sides) written so far of the session's total, and the end."""
    report = progress or _unwatched
    sides = session.sides if session.sides is not None else []
    total = sum(len(f.records) for f in session.files.values()) + len(session.labels) + len(sides)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = dbn.write_files(session.files.values(), out_dir, session.date, report, total)
    done = sum(len(f.records) for f in session.files.values())
    report(LABELS_FILE, done, total)
    labels = out_dir / LABELS_FILE
    labels.write_bytes(encode_labels(session.labels))
    paths.append(labels)
    done += len(session.labels)
    if session.sides is not None:
        report(SIDES_FILE, done, total)
        sides_path = out_dir / SIDES_FILE
        sides_path.write_bytes(encode_sides(session.sides))
        paths.append(sides_path)
        done += len(session.sides)
    report(paths[-1].name, done, total)
    return sorted(paths)


def _unwatched(what: str, done: int, total: int) -> None:
    pass


# ------------------------------------------------------------------------ planting


def _plant_options(
    rng: random.Random, planter: OptionPlanter, config: SynthConfig, duration_ns: int, n: int
) -> None:
    jobs: list[tuple[str, str | None]] = []
    for kind in ("sweep", "golden_sweep", "split", "block", "repeated_hits"):
        jobs += [(kind, None)] * n
    jobs += [("multi_leg", STRUCTURES[k % len(STRUCTURES)]) for k in range(max(n, len(STRUCTURES)))]
    jobs += [("side_probe", PROBE_VARIANTS[k % len(PROBE_VARIANTS)]) for k in range(4 * n)]
    rng.shuffle(jobs)
    # One slot per event: planted events never overlap in time, so truth stays separable.
    first, last = 5 * NS, duration_ns - 3 * NS
    slot = (last - first) // max(1, len(jobs))
    if slot < 2 * NS:
        keep = max(1, (last - first) // (2 * NS))
        jobs, slot = jobs[:keep], (last - first) // keep
    for k, (kind, arg) in enumerate(jobs):
        t0 = first + k * slot + rng.randint(slot // 4, slot // 2)
        draft: Draft | None
        if kind in ("sweep", "golden_sweep"):
            draft = planter.sweep(t0, golden=kind == "golden_sweep")
        elif kind == "split":
            draft = planter.split(t0)
        elif kind == "block":
            draft = planter.block(t0)
        elif kind == "repeated_hits":
            draft = planter.repeated_hits(t0)
        elif kind == "multi_leg":
            draft = planter.multi_leg(t0, arg or "vertical")
        else:
            draft = planter.side_probe(t0, arg or "at_ask_then_lift")
        if draft is not None and rng.random() < config.distractor_share:
            planter.distractor(draft, t0)


def _open_interest(
    nprng: np.random.Generator, universe: Universe, override: dict[int, int]
) -> np.ndarray:
    x = np.log(universe.c_strike / universe.spot0[universe.c_under])
    base = np.exp(nprng.normal(7.0, 1.0, size=universe.n_contracts))
    oi = (base * universe.weight[universe.c_under] * np.exp(-((x / 0.15) ** 2))).astype(np.int64)
    oi = np.maximum(oi, 10)
    for c, value in override.items():  # planted sweeps decide their contract's OI
        oi[c] = value
    return oi


# ------------------------------------------------------------------------ labels


def _premium_cents(price: int, size: int) -> int:
    # price x size x 100 shares per contract, from 1e-9 dollars to cents.
    return price * size // 100_000


def _option_labels(
    planter: OptionPlanter, universe: Universe, prints: OptionPrints, oi: np.ndarray
) -> list[Label]:
    buckets = option_buckets(prints)
    labels = []
    for draft in planter.drafts:
        members = []
        for planted in draft.prints:
            row = int(prints.planted_row[planted])
            c = int(prints.contract[row])
            members.append(
                LabelMember(
                    instrument_id=int(universe.c_id[c]),
                    publisher_id=int(prints.publisher[row]),
                    ts_event=int(prints.ts_event[row]),
                    sequence=int(prints.sequence[row]),
                    ts_recv=int(prints.ts_recv[row]),
                    symbol=universe.c_symbol[c],
                    price=int(prints.price[row]),
                    size=int(prints.size[row]),
                    side={1: "buy", -1: "sell"}.get(planter.print_side[planted], "unknown"),
                    bucket=str(buckets[row]),
                    bid_px=int(prints.bid[row]),
                    ask_px=int(prints.ask[row]),
                )
            )
        contracts = {int(prints.contract[int(prints.planted_row[p])]) for p in draft.prints}
        legs = [
            LabelLeg(
                instrument_id=int(universe.c_id[c]),
                symbol=universe.c_symbol[c],
                side=side,
                ratio=ratio,
                size=size,
            )
            for c, side, ratio, size in draft.legs
        ]
        labels.append(
            Label(
                label_id=draft.label_id,
                kind=draft.kind,
                packet_kind=draft.packet_kind,
                dataset=OPRA_DATASET,
                underlying=universe.tickers[draft.underlying],
                side=draft.side,
                ts_start=min(m.ts_event for m in members),
                ts_end=max(m.ts_event for m in members),
                size=sum(m.size for m in members),
                premium_cents=sum(_premium_cents(m.price, m.size) for m in members),
                venues=sorted({m.publisher_id for m in members}),
                members=sorted(members, key=lambda m: (m.ts_recv, m.instrument_id)),
                structure=draft.structure,
                legs=legs,
                open_interest=int(oi[contracts.pop()]) if len(contracts) == 1 else None,
                variant=draft.variant,
                near=draft.near,
                note=draft.note,
            )
        )
    return labels


def _print_sides(universe: Universe, prints: OptionPrints) -> list[PrintSide]:
    known = np.flatnonzero(prints.side != 0)
    columns = zip(
        universe.c_id[prints.contract[known]].tolist(),
        prints.publisher[known].tolist(),
        prints.ts_event[known].tolist(),
        prints.sequence[known].tolist(),
        prints.side[known].tolist(),
        strict=True,
    )
    return [
        PrintSide(instrument_id=i, publisher_id=p, ts_event=t, sequence=s, side=SIDE_NAME[side])
        for i, p, t, s, side in columns
    ]


def _equity_labels(
    plans: list[EquityPlan],
    universe: Universe,
    tape: EquityTape,
    paths: np.ndarray,
    duration_ns: int,
) -> list[Label]:
    buckets = dark_buckets(tape)
    labels = []
    for plan in plans:
        side = "buy" if plan.side > 0 else "sell"
        members = [
            LabelMember(
                instrument_id=int(universe.equity_ids[tape.dark_under[r]]),
                publisher_id=int(tape.dark_pub[r]),
                ts_event=int(tape.dark_ev[r]),
                sequence=int(tape.dark_seq[r]),
                ts_recv=int(tape.dark_ts[r]),
                symbol=universe.tickers[plan.under],
                price=int(tape.dark_price[r]),
                size=int(tape.dark_size[r]),
                side=side,
                bucket=str(buckets[r]),
                bid_px=int(tape.dark_bbo[0][r]),
                ask_px=int(tape.dark_bbo[1][r]),
            )
            for r in plan.rows
        ]
        # Realised move of the mid from just before the pattern to a minute after its end.
        before = max(plan.t0 - NS, 0)
        after = min(plan.t1 + 60 * NS, duration_ns)
        mids = spot_at(paths, np.array([plan.under] * 2), np.array([before, after]))
        impact = round(float((mids[1] - mids[0]) / mids[0] * 1e4), 2)
        notes = {
            "absorbed_block": "large off-exchange print; the price barely moves afterwards",
            "stealth_accumulation": "mid-size off-exchange buys while the price drifts up",
            "distribution": "mid-size off-exchange sells while the price drifts down",
        }
        labels.append(
            Label(
                label_id=plan.label_id,
                kind=plan.kind,
                packet_kind="darkpool",
                dataset=DARK_DATASET,
                underlying=universe.tickers[plan.under],
                side=side,
                ts_start=min(m.ts_event for m in members),
                ts_end=max(m.ts_event for m in members),
                size=sum(m.size for m in members),
                premium_cents=sum(m.price * m.size // 10_000_000 for m in members),
                venues=sorted({m.publisher_id for m in members}),
                members=sorted(members, key=lambda m: (m.ts_recv, m.publisher_id)),
                impact_bps=impact,
                note=notes[plan.kind],
            )
        )
    return labels
