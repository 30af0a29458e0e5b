"""The equity side: lit Nasdaq quotes and prints (XNAS.ITCH) and off-exchange prints reported
to the FINRA TRFs (EQUS.PLUS publishers FINN, FINC, FINY), with planted dark-pool patterns.

The off-exchange `tbbo` carries the lit Nasdaq BBO in force before each print: the synthetic
market has one lit venue, so that quote stands in for the consolidated one.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np

from synth import dbn
from synth.columns import (
    asof_index,
    bucket_of,
    sequence_by_publisher,
    series_key,
    strictly_increasing,
    unique_ts_event,
)
from synth.universe import (
    CENT,
    DARK_PUBLISHERS,
    LIT_PUBLISHER,
    NS,
    PRICE_SCALE,
    Universe,
    publisher_id,
    spot_at,
)

LIT_DATASET = "XNAS.ITCH"
DARK_DATASET = "EQUS.PLUS"
US = 1_000
SUBPENNY = PRICE_SCALE // 10_000  # off-exchange prints may be priced to $0.0001


@dataclass
class EquityPlan:
    """One planted off-exchange pattern before prices are known."""

    label_id: str
    kind: str
    under: int
    side: int  # 1 buy, -1 sell
    t0: int
    t1: int
    times: list[int]
    sizes: list[int]
    pubs: list[int]
    lean: list[float]  # 0 = at mid, 1 = at the touch on the aggressor's side
    rows: list[int] = field(default_factory=list)


def plan_equity_events(
    rng: random.Random, universe: Universe, paths: np.ndarray, duration_ns: int, n_per_kind: int
) -> list[EquityPlan]:
    """Choose the planted dark-pool events and bend the price paths they need (in place)."""
    dark = [publisher_id(p) for p in DARK_PUBLISHERS]
    n_under = len(universe.tickers)
    busy: dict[int, list[tuple[int, int]]] = {}
    plans: list[EquityPlan] = []
    seconds = duration_ns // NS

    def place(length: int) -> tuple[int, int, int] | None:
        for _ in range(200):
            u = rng.randrange(n_under)
            hi = duration_ns - length - 3 * NS
            if hi <= 5 * NS:
                return None
            t0 = rng.randint(5 * NS, hi)
            t1 = t0 + length
            if all(t1 + 3 * NS < a or t0 - 3 * NS > b for a, b in busy.get(u, [])):
                busy.setdefault(u, []).append((t0, t1))
                return u, t0, t1
        return None

    # Long patterns first (alternating), so short sessions still get one of each.
    for k in range(n_per_kind):
        for kind, side in (("stealth_accumulation", 1), ("distribution", -1)):
            length = int(min(360.0, 0.4 * seconds) * NS)
            spot = place(length)
            if spot is None:
                continue
            u, t0, t1 = spot
            n = rng.randint(15, 40)
            times = sorted(rng.randint(t0, t1) for _ in range(n))
            sizes = [rng.randint(10, 80) * 100 for _ in range(n)]
            pubs = [rng.choice(dark) for _ in range(n)]
            lean = [rng.uniform(0.3, 1.0) for _ in range(n)]
            plans.append(
                EquityPlan(f"{kind}-{k + 1:04d}", kind, u, side, t0, t1, times, sizes, pubs, lean)
            )
            # The patient buyer (seller) walks the price up (down) over the window.
            # At least three standard deviations of the window's own noise, so it shows.
            noise = float(universe.vol[u]) * math.sqrt(length / NS / (252 * 390 * 60))
            drift = side * max(rng.uniform(0.003, 0.008), 3 * noise)
            s0, s1 = t0 // NS, min(t1 // NS + 1, paths.shape[1] - 1)
            ramp = np.linspace(0.0, drift, s1 - s0 + 1)
            paths[u, s0 : s1 + 1] *= np.exp(ramp)
            paths[u, s1 + 1 :] *= math.exp(drift)
    for k in range(n_per_kind):
        spot = place(0)
        if spot is not None:
            u, t0, _ = spot
            side = 1 if rng.random() < 0.5 else -1
            price = float(universe.spot0[u])
            size = max(100, int(rng.uniform(5e6, 3e7) / price) // 100 * 100)
            plans.append(
                EquityPlan(
                    f"absorbed_block-{k + 1:04d}",
                    "absorbed_block",
                    u,
                    side,
                    t0,
                    t0,
                    [t0],
                    [size],
                    [rng.choice(dark)],
                    [rng.uniform(0.0, 0.4)],
                )
            )
    return plans


@dataclass
class EquityTape:
    """Final equity quotes and prints, each in ts_recv order."""

    q_ts: np.ndarray
    q_ev: np.ndarray
    q_under: np.ndarray
    q_bid: np.ndarray
    q_ask: np.ndarray
    q_bsz: np.ndarray
    q_asz: np.ndarray
    q_side: np.ndarray
    lit_ts: np.ndarray
    lit_ev: np.ndarray
    lit_under: np.ndarray
    lit_price: np.ndarray
    lit_size: np.ndarray
    lit_side: np.ndarray  # 'B' buyer-initiated, 'A' seller-initiated
    lit_bbo: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    dark_ts: np.ndarray
    dark_ev: np.ndarray
    dark_under: np.ndarray
    dark_pub: np.ndarray
    dark_price: np.ndarray
    dark_size: np.ndarray
    dark_bbo: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]
    dark_seq: np.ndarray
    mbp_seq_quotes: np.ndarray
    mbp_seq_lit: np.ndarray


def build_equities(
    nprng: np.random.Generator,
    universe: Universe,
    paths: np.ndarray,
    open_ns: int,
    duration_ns: int,
    quotes_per_second: float,
    lit_per_second: float,
    dark_per_second: float,
    plans: list[EquityPlan],
) -> EquityTape:
    """Lit quotes from the price paths, lit and dark prints joined as-of to them."""
    n_under = len(universe.tickers)
    seconds = duration_ns / NS
    w = universe.weight / universe.weight.mean()
    dark_ids = np.array([publisher_id(p) for p in DARK_PUBLISHERS], dtype=np.int64)

    def poisson_times(rate: float, start: int) -> tuple[np.ndarray, np.ndarray]:
        counts = nprng.poisson(rate * w * seconds)
        under = np.repeat(np.arange(n_under), counts)
        return under, nprng.integers(start, duration_ns, size=len(under))

    q_under, q_t = poisson_times(quotes_per_second, NS // 4)
    q_under = np.concatenate([np.arange(n_under), q_under])
    q_t = np.concatenate([nprng.integers(US, 100_000 * US, size=n_under), q_t])
    l_under, l_t = poisson_times(lit_per_second, NS)
    d_under, d_t = poisson_times(dark_per_second, NS)
    keep = np.ones(len(d_t), dtype=bool)
    for plan in plans:  # background dark prints of that name stay clear of the pattern
        keep &= ~((d_under == plan.under) & (d_t >= plan.t0 - NS) & (d_t <= plan.t1 + NS))
    d_under, d_t = d_under[keep], d_t[keep]
    n_bg_dark = len(d_t)
    planted_t = [t for plan in plans for t in plan.times]
    planted_u = [plan.under for plan in plans for _ in plan.times]
    d_under = np.concatenate([d_under, np.array(planted_u, dtype=np.int64)])
    d_t = np.concatenate([d_t, np.array(planted_t, dtype=np.int64)])

    every = strictly_increasing(
        np.concatenate([q_t, l_t, d_t]),
        np.concatenate([np.zeros(len(q_t)), np.ones(len(l_t) + len(d_t))]).astype(np.int64),
    )
    n_q, n_l = len(q_t), len(l_t)
    q_t, l_t, d_t = every[:n_q], every[n_q : n_q + n_l], every[n_q + n_l :]

    mid = spot_at(paths, q_under, q_t)
    spread_ticks = np.where(mid < 150, 1, nprng.integers(1, 4, size=len(mid)))
    bid = np.floor((mid * PRICE_SCALE - spread_ticks * CENT / 2) / CENT).astype(np.int64) * CENT
    ask = bid + spread_ticks * CENT
    bsz = nprng.integers(1, 30, size=len(mid)) * 100
    asz = nprng.integers(1, 30, size=len(mid)) * 100
    q_side = nprng.choice(np.array([ord("B"), ord("A")]), size=len(mid))

    key = series_key(q_under, q_t)
    order = np.argsort(key, kind="stable")
    key_sorted = key[order]

    def join(under: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, ...]:
        idx = asof_index(key_sorted, q_under[order], under, series_key(under, t))
        if (idx < 0).any():
            raise RuntimeError("an equity print has no quote before it")
        j = order[idx]
        return bid[j], ask[j], bsz[j], asz[j]

    lb, la, lbs, las = join(l_under, l_t)
    buyer = nprng.random(len(l_t)) < 0.5
    l_price = np.where(buyer, la, lb)
    l_size = np.where(
        nprng.random(len(l_t)) < 0.4,
        nprng.integers(1, 100, size=len(l_t)),
        nprng.integers(1, 10, size=len(l_t)) * 100,
    )

    db_, da, dbs, das = join(d_under, d_t)
    mid_d = (db_ + da) // 2
    half = (da - db_) // 2
    d_price = (db_ + (nprng.random(len(d_t)) * (da - db_)).astype(np.int64)) // SUBPENNY * SUBPENNY
    d_size = np.where(
        nprng.random(len(d_t)) < 0.7,
        nprng.integers(1, 20, size=len(d_t)) * 100,
        nprng.integers(1, 2000, size=len(d_t)),
    )
    d_pub = nprng.choice(dark_ids, size=len(d_t))
    row = n_bg_dark
    for plan in plans:
        for size, pub, lean in zip(plan.sizes, plan.pubs, plan.lean, strict=True):
            price = mid_d[row] + plan.side * int(lean * half[row])
            d_price[row] = price // SUBPENNY * SUBPENNY
            d_size[row] = size
            d_pub[row] = pub
            plan.rows.append(row)
            row += 1

    # Nasdaq ITCH stamps ~10 us before receipt; TRF reports arrive later than the execution.
    q_ev = q_t - nprng.integers(8 * US, 15 * US, size=len(q_t))
    l_ev = l_t - nprng.integers(8 * US, 15 * US, size=len(l_t))
    d_ev = d_t - nprng.integers(200 * US, 5_000 * US, size=len(d_t))

    qo = np.argsort(q_t, kind="stable")
    lo = np.argsort(l_t, kind="stable")
    do = np.argsort(d_t, kind="stable")
    final_dark = np.empty(len(d_t), dtype=np.int64)
    final_dark[do] = np.arange(len(d_t))
    for plan in plans:
        plan.rows = [int(final_dark[r]) for r in plan.rows]

    lit_pub = publisher_id(LIT_PUBLISHER)
    ids = universe.equity_ids
    q_ev_s, l_ev_s, d_ev_s = q_ev[qo], l_ev[lo], d_ev[do]
    unique_ts_event(np.full(len(qo), lit_pub), ids[q_under[qo]], q_ev_s)
    unique_ts_event(np.full(len(lo), lit_pub), ids[l_under[lo]], l_ev_s)
    unique_ts_event(d_pub[do], ids[d_under[do]], d_ev_s)

    # One Nasdaq sequence across quotes and trades, as in the mbp-1 feed.
    mbp_t = np.concatenate([q_t[qo], l_t[lo]])
    mbp_seq = sequence_by_publisher(np.zeros(len(mbp_t), np.int64), mbp_t, start=100_000)
    return EquityTape(
        q_ts=open_ns + q_t[qo],
        q_ev=open_ns + q_ev_s,
        q_under=q_under[qo],
        q_bid=bid[qo],
        q_ask=ask[qo],
        q_bsz=bsz[qo],
        q_asz=asz[qo],
        q_side=q_side[qo],
        lit_ts=open_ns + l_t[lo],
        lit_ev=open_ns + l_ev_s,
        lit_under=l_under[lo],
        lit_price=l_price[lo],
        lit_size=l_size[lo],
        lit_side=np.where(buyer, ord("B"), ord("A"))[lo],
        lit_bbo=(lb[lo], la[lo], lbs[lo], las[lo]),
        dark_ts=open_ns + d_t[do],
        dark_ev=open_ns + d_ev_s,
        dark_under=d_under[do],
        dark_pub=d_pub[do],
        dark_price=d_price[do],
        dark_size=d_size[do],
        dark_bbo=(db_[do], da[do], dbs[do], das[do]),
        dark_seq=sequence_by_publisher(d_pub[do], d_t[do], start=10_000),
        mbp_seq_quotes=mbp_seq[: len(qo)],
        mbp_seq_lit=mbp_seq[len(qo) :],
    )


def dark_buckets(tape: EquityTape) -> np.ndarray:
    """Where each off-exchange print sits in the lit BBO before it."""
    return bucket_of(tape.dark_price, tape.dark_bbo[0], tape.dark_bbo[1])


# ------------------------------------------------------------------------- DBN records


def _symbology(universe: Universe) -> dict[int, str]:
    return {int(i): t for i, t in zip(universe.equity_ids, universe.tickers, strict=True)}


def _fill_trade(
    r: np.ndarray,
    pub: np.ndarray | int,
    iid: np.ndarray,
    ev: np.ndarray,
    ts: np.ndarray,
    price: np.ndarray,
    size: np.ndarray,
    side: np.ndarray | bytes,
    seq: np.ndarray,
) -> None:
    r["publisher_id"] = pub
    r["instrument_id"] = iid
    r["ts_event"] = ev
    r["ts_recv"] = ts
    r["price"] = price
    r["size"] = size
    r["action"] = b"T"
    r["side"] = side
    r["flags"] = dbn.F_LAST
    r["ts_in_delta"] = ts - ev
    r["sequence"] = seq


def _fill_bbo(r: np.ndarray, bbo: tuple[np.ndarray, ...]) -> None:
    r["bid_px_00"], r["ask_px_00"], r["bid_sz_00"], r["ask_sz_00"] = bbo
    r["bid_ct_00"] = 1
    r["ask_ct_00"] = 1


def equity_files(universe: Universe, tape: EquityTape) -> list[dbn.DbnFile]:
    """XNAS.ITCH trades/tbbo/mbp-1 and EQUS.PLUS (TRF) trades/tbbo."""
    ids = universe.equity_ids
    sym = _symbology(universe)
    lit_pub = publisher_id(LIT_PUBLISHER)
    lit_side = tape.lit_side.astype(np.uint8).view("S1")

    trades = dbn.empty_records("trades", len(tape.lit_ts))
    _fill_trade(
        trades,
        lit_pub,
        ids[tape.lit_under],
        tape.lit_ev,
        tape.lit_ts,
        tape.lit_price,
        tape.lit_size,
        lit_side,
        tape.mbp_seq_lit,
    )
    tbbo = dbn.empty_records("tbbo", len(tape.lit_ts))
    _fill_trade(
        tbbo,
        lit_pub,
        ids[tape.lit_under],
        tape.lit_ev,
        tape.lit_ts,
        tape.lit_price,
        tape.lit_size,
        lit_side,
        tape.mbp_seq_lit,
    )
    _fill_bbo(tbbo, tape.lit_bbo)

    # mbp-1: quote changes (action A) and trades (action T) interleaved by ts_recv.
    quotes = dbn.empty_records("mbp-1", len(tape.q_ts))
    is_ask = tape.q_side == ord("A")
    _fill_trade(
        quotes,
        lit_pub,
        ids[tape.q_under],
        tape.q_ev,
        tape.q_ts,
        np.where(is_ask, tape.q_ask, tape.q_bid),
        np.where(is_ask, tape.q_asz, tape.q_bsz),
        tape.q_side.astype(np.uint8).view("S1"),
        tape.mbp_seq_quotes,
    )
    quotes["action"] = b"A"
    quotes["flags"] = dbn.F_LAST | dbn.F_TOB
    _fill_bbo(quotes, (tape.q_bid, tape.q_ask, tape.q_bsz, tape.q_asz))
    mbp = np.concatenate([quotes, tbbo])
    mbp = mbp[np.argsort(mbp["ts_recv"], kind="stable")]

    dark_trades = dbn.empty_records("trades", len(tape.dark_ts))
    _fill_trade(
        dark_trades,
        tape.dark_pub,
        ids[tape.dark_under],
        tape.dark_ev,
        tape.dark_ts,
        tape.dark_price,
        tape.dark_size,
        b"N",
        tape.dark_seq,
    )
    dark_tbbo = dbn.empty_records("tbbo", len(tape.dark_ts))
    _fill_trade(
        dark_tbbo,
        tape.dark_pub,
        ids[tape.dark_under],
        tape.dark_ev,
        tape.dark_ts,
        tape.dark_price,
        tape.dark_size,
        b"N",
        tape.dark_seq,
    )
    _fill_bbo(dark_tbbo, tape.dark_bbo)
    return [
        dbn.DbnFile(LIT_DATASET, "trades", trades, sym),
        dbn.DbnFile(LIT_DATASET, "tbbo", tbbo, sym),
        dbn.DbnFile(LIT_DATASET, "mbp-1", mbp, sym),
        dbn.DbnFile(DARK_DATASET, "trades", dark_trades, sym),
        dbn.DbnFile(DARK_DATASET, "tbbo", dark_tbbo, sym),
    ]
