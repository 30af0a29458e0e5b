"""The OPRA side of a synthetic session: background quotes and prints around planted flow."""

from __future__ import annotations

from dataclasses import dataclass

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
from synth.hard_background import quiet_contracts, roughen, sided_prices
from synth.planted import OptionPlanter
from synth.universe import (
    CENT,
    NS,
    OPRA_CONSOLIDATED,
    Universe,
    nbbo_from_theo,
    publisher_id,
    theo_price,
)

DATASET = "OPRA.PILLAR"
US = 1_000


@dataclass
class OptionPrints:
    """Final option prints (in ts_recv order) with the NBBO each one was joined to."""

    ts_recv: np.ndarray
    ts_event: np.ndarray
    contract: np.ndarray
    publisher: np.ndarray
    price: np.ndarray
    size: np.ndarray
    sequence: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray
    bid_pb: np.ndarray
    ask_pb: np.ndarray
    side: np.ndarray  # true aggressor: 1 buy, -1 sell, 0 unknown (or not recorded)
    planted_row: np.ndarray  # final row of each planted print, indexed by planted print number


@dataclass
class OptionQuotes:
    """Final consolidated NBBO changes in ts_recv order (publisher OPRA.PILLAR.OPRA)."""

    ts_recv: np.ndarray
    ts_event: np.ndarray
    contract: np.ndarray
    publisher: np.ndarray
    bid: np.ndarray
    ask: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray
    bid_pb: np.ndarray
    ask_pb: np.ndarray
    side: np.ndarray  # uint8 'A' / 'B' / 'N': which side changed


def _contract_weights(universe: Universe) -> np.ndarray:
    under = universe.c_under
    x = np.log(universe.c_strike / universe.spot0[under])
    near_money = np.exp(-((x / 0.05) ** 2)) + 0.05
    expiry_w = np.array([1.0, 0.55, 0.35, 0.25, 0.2, 0.15, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1])
    w = universe.weight[under] * near_money * expiry_w[universe.c_expiry]
    return np.asarray(w / w.sum())


def _drop_windows(
    contract: np.ndarray, rel_ns: np.ndarray, windows: dict[int, list[tuple[int, int]]]
) -> np.ndarray:
    """Mask (True = keep) of background rows outside every planted window of their contract."""
    keys = series_key(contract, rel_ns)
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    keep_sorted = np.ones(len(keys), dtype=bool)
    for c, spans in windows.items():
        for lo, hi in spans:
            a = np.searchsorted(sorted_keys, series_key(c, max(lo, 0)), side="left")
            b = np.searchsorted(sorted_keys, series_key(c, max(hi, 0)), side="right")
            keep_sorted[a:b] = False
    keep = np.empty(len(keys), dtype=bool)
    keep[order] = keep_sorted
    return keep


def build_options(
    nprng: np.random.Generator,
    universe: Universe,
    paths: np.ndarray,
    open_ns: int,
    duration_ns: int,
    prints_per_second: float,
    quotes_per_print: float,
    planter: OptionPlanter,
    venues: np.ndarray,
    venue_weights: np.ndarray,
    *,
    hard: bool = False,
) -> tuple[OptionQuotes, OptionPrints]:
    """Background flow plus the planter's events, joined as-of into a consistent tape.

    `hard` gives the background the texture of `synth.hard_background` and records the true
    side of its prints; the standard background leaves them unrecorded (side 0).
    """
    n_contracts = universe.n_contracts
    seconds = duration_ns / NS
    weights = _contract_weights(universe)
    vp = venue_weights / venue_weights.sum()

    # Background prints and quote updates: Poisson counts, contracts by liquidity.
    n_prints = int(nprng.poisson(prints_per_second * seconds))
    bp_c = nprng.choice(n_contracts, size=n_prints, p=weights)
    bp_t = nprng.integers(NS, duration_ns, size=n_prints)
    n_quotes = int(nprng.poisson(prints_per_second * quotes_per_print * seconds))
    # The hard tape quotes contracts as actively as they trade (its quiet ones come later).
    qw = weights if hard else np.sqrt(weights)
    bq_c = np.concatenate(
        [np.arange(n_contracts), nprng.choice(n_contracts, size=n_quotes, p=qw / qw.sum())]
    )
    bq_t = np.concatenate(
        [
            nprng.integers(US, 400_000 * US, size=n_contracts),  # opening quote per contract
            nprng.integers(NS // 2, duration_ns, size=n_quotes),
        ]
    )
    if hard:
        bp_c, bp_t, bq_c, bq_t = roughen(
            nprng,
            universe.c_under,
            quiet_contracts(nprng, n_contracts),
            (bp_c, bp_t),
            (bq_c, bq_t),
            n_contracts,
            (np.array(planter.prints["c"], np.int64), np.array(planter.prints["ts"], np.int64)),
            duration_ns,
        )
    keep = _drop_windows(bp_c, bp_t, planter.windows)
    bp_c, bp_t = bp_c[keep], bp_t[keep]
    keep = _drop_windows(bq_c, bq_t, planter.windows)
    bq_c, bq_t = bq_c[keep], bq_t[keep]

    pq = {k: np.array(v, dtype=np.int64) for k, v in planter.quotes.items()}
    pp = {k: np.array(v, dtype=np.int64) for k, v in planter.prints.items()}
    n_planted_p = len(pp["ts"])

    # Background quote values from the theoretical price at their own time.
    theo = theo_price(universe, paths, bq_c, open_ns + bq_t, open_ns)
    jitter = nprng.choice(np.array([-1.0, 0.0, 0.0, 0.0, 1.0]), size=len(bq_c))
    b_bid, b_ask = nbbo_from_theo(theo, jitter)
    nq = len(bq_c)
    b_side = nprng.choice(np.array([ord("B"), ord("A")]), size=nq)
    b_bpb = nprng.choice(venues, size=nq, p=vp)
    b_apb = nprng.choice(venues, size=nq, p=vp)
    q_c = np.concatenate([pq["c"], bq_c])
    q_t = np.concatenate([pq["ts"], bq_t])
    q_bid = np.concatenate([pq["bid"], b_bid])
    q_ask = np.concatenate([pq["ask"], b_ask])
    q_bsz = np.concatenate([pq["bsz"], nprng.integers(1, 500, size=nq)])
    q_asz = np.concatenate([pq["asz"], nprng.integers(1, 500, size=nq)])
    q_bpb = np.concatenate([pq["bpb"], b_bpb])
    q_apb = np.concatenate([pq["apb"], b_apb])
    q_side = np.concatenate([pq["side"], b_side])
    # NBBO records come from the consolidated publisher; bid_pb/ask_pb name the venues.
    q_pub = np.full(len(q_c), publisher_id(OPRA_CONSOLIDATED), dtype=np.int64)

    p_c = np.concatenate([pp["c"], bp_c])
    p_t = np.concatenate([pp["ts"], bp_t])

    # No two option events share a receive time: "strictly before" is then unambiguous.
    all_t = strictly_increasing(
        np.concatenate([q_t, p_t]),
        np.concatenate([np.zeros(len(q_t), np.int64), np.ones(len(p_t), np.int64)]),
    )
    q_t, p_t = all_t[: len(q_t)], all_t[len(q_t) :]

    # As-of join: the last quote of the contract with ts_recv strictly before the print.
    q_key = series_key(q_c, q_t)
    q_order = np.argsort(q_key, kind="stable")
    q_key_sorted = q_key[q_order]
    idx = asof_index(q_key_sorted, q_c[q_order], p_c, series_key(p_c, p_t))
    if (idx[:n_planted_p] < 0).any():
        raise RuntimeError("a planted print has no quote before it")
    has_quote = idx >= 0
    has_quote[:n_planted_p] = True
    j = q_order[idx]
    a_bid, a_ask = q_bid[j], q_ask[j]

    n_bg = len(bp_c)
    bb, ba = a_bid[n_planted_p:], a_ask[n_planted_p:]
    if hard:
        bg_price, bg_side = sided_prices(nprng, bb, ba)
    else:  # at the ask (buyer), bid (seller), mid, or inside the spread
        u = nprng.random(n_bg)
        mid = (bb + ba) // 2 // CENT * CENT
        inside = bb + (nprng.random(n_bg) * ((ba - bb) // CENT + 1)).astype(np.int64) * CENT
        bg_price = np.where(u < 0.40, ba, np.where(u < 0.78, bb, np.where(u < 0.90, mid, inside)))
        bg_price = np.clip(bg_price, bb, ba)
        bg_side = np.zeros(n_bg, dtype=np.int64)
    bg_size = np.minimum(1 + nprng.lognormal(1.0, 1.2, size=n_bg).astype(np.int64), 1000)
    bg_pub = nprng.choice(venues, size=n_bg, p=vp)

    p_price = np.concatenate([pp["price"], bg_price])
    p_size = np.concatenate([pp["size"], bg_size])
    p_pub = np.concatenate([pp["pub"], bg_pub])
    p_side = np.concatenate([np.array(planter.print_side, dtype=np.int64), bg_side])

    # Receive latency of the OPRA feed (the sample files show ~0.2 ms).
    p_ev = p_t - nprng.integers(150 * US, 450 * US, size=len(p_t))
    q_ev = q_t - nprng.integers(150 * US, 450 * US, size=len(q_t))
    if "lat" in pp:  # the planter chose its own prints' latency (legs stamped together)
        p_ev[:n_planted_p] = p_t[:n_planted_p] - pp["lat"]

    # Keep prints that found a quote, order both tapes by ts_recv.
    rows = np.flatnonzero(has_quote)
    rows = rows[np.argsort(p_t[rows], kind="stable")]
    final_of = np.full(len(p_t), -1, dtype=np.int64)
    final_of[rows] = np.arange(len(rows))
    qo = np.argsort(q_t, kind="stable")

    c_id = universe.c_id
    prints = OptionPrints(
        ts_recv=open_ns + p_t[rows],
        ts_event=open_ns + p_ev[rows],
        contract=p_c[rows],
        publisher=p_pub[rows],
        price=p_price[rows],
        size=p_size[rows],
        sequence=np.zeros(len(rows), np.int64),
        bid=a_bid[rows],
        ask=a_ask[rows],
        bid_sz=q_bsz[j][rows],
        ask_sz=q_asz[j][rows],
        bid_pb=q_bpb[j][rows],
        ask_pb=q_apb[j][rows],
        side=p_side[rows],
        planted_row=final_of[:n_planted_p],
    )
    unique_ts_event(prints.publisher, c_id[prints.contract], prints.ts_event)
    prints.sequence = sequence_by_publisher(prints.publisher, prints.ts_recv, start=1_000)
    quotes = OptionQuotes(
        ts_recv=open_ns + q_t[qo],
        ts_event=open_ns + q_ev[qo],
        contract=q_c[qo],
        publisher=q_pub[qo],
        bid=q_bid[qo],
        ask=q_ask[qo],
        bid_sz=q_bsz[qo],
        ask_sz=q_asz[qo],
        bid_pb=q_bpb[qo],
        ask_pb=q_apb[qo],
        side=q_side[qo],
    )
    unique_ts_event(quotes.publisher, c_id[quotes.contract], quotes.ts_event)
    return quotes, prints


def option_buckets(prints: OptionPrints) -> np.ndarray:
    """Where each print sits in its as-of NBBO."""
    return bucket_of(prints.price, prints.bid, prints.ask)


# ------------------------------------------------------------------------- DBN records


def _symbology(universe: Universe) -> dict[int, str]:
    return {int(i): s for i, s in zip(universe.c_id, universe.c_symbol, strict=True)}


def cmbp1_file(universe: Universe, quotes: OptionQuotes) -> dbn.DbnFile:
    """`cmbp-1`: every consolidated NBBO change."""
    r = dbn.empty_records("cmbp-1", len(quotes.ts_recv))
    r["publisher_id"] = quotes.publisher
    r["instrument_id"] = universe.c_id[quotes.contract]
    r["ts_event"] = quotes.ts_event
    r["ts_recv"] = quotes.ts_recv
    is_ask = quotes.side == ord("A")
    r["price"] = np.where(is_ask, quotes.ask, quotes.bid)
    r["size"] = np.where(is_ask, quotes.ask_sz, quotes.bid_sz)
    r["action"] = b"A"
    r["side"] = quotes.side.astype(np.uint8).view("S1")
    r["flags"] = dbn.F_LAST | dbn.F_TOB
    _levels(r, quotes.bid, quotes.ask, quotes.bid_sz, quotes.ask_sz, quotes.bid_pb, quotes.ask_pb)
    return dbn.DbnFile(DATASET, "cmbp-1", r, _symbology(universe))


def _levels(
    r: np.ndarray,
    bid: np.ndarray,
    ask: np.ndarray,
    bid_sz: np.ndarray,
    ask_sz: np.ndarray,
    bid_pb: np.ndarray,
    ask_pb: np.ndarray,
) -> None:
    r["bid_px_00"] = bid
    r["ask_px_00"] = ask
    r["bid_sz_00"] = bid_sz
    r["ask_sz_00"] = ask_sz
    r["bid_pb_00"] = bid_pb
    r["ask_pb_00"] = ask_pb


def tcbbo_file(universe: Universe, prints: OptionPrints) -> dbn.DbnFile:
    """`tcbbo`: each trade with the consolidated BBO just before it."""
    r = dbn.empty_records("tcbbo", len(prints.ts_recv))
    _trade_fields(r, universe, prints)
    _levels(r, prints.bid, prints.ask, prints.bid_sz, prints.ask_sz, prints.bid_pb, prints.ask_pb)
    return dbn.DbnFile(DATASET, "tcbbo", r, _symbology(universe))


def trades_file(universe: Universe, prints: OptionPrints) -> dbn.DbnFile:
    """`trades`: every option print (OPRA reports no aggressor: side 'N')."""
    r = dbn.empty_records("trades", len(prints.ts_recv))
    _trade_fields(r, universe, prints)
    r["sequence"] = prints.sequence
    return dbn.DbnFile(DATASET, "trades", r, _symbology(universe))


def _trade_fields(r: np.ndarray, universe: Universe, prints: OptionPrints) -> None:
    r["publisher_id"] = prints.publisher
    r["instrument_id"] = universe.c_id[prints.contract]
    r["ts_event"] = prints.ts_event
    r["ts_recv"] = prints.ts_recv
    r["price"] = prints.price
    r["size"] = prints.size
    r["action"] = b"T"
    r["side"] = b"N"
    r["flags"] = dbn.F_LAST


def definition_file(universe: Universe, ts_event: int) -> dbn.DbnFile:
    """`definition`: one record per contract from the consolidated OPRA publisher."""
    n = universe.n_contracts
    r = dbn.empty_records("definition", n)
    opra = publisher_id(OPRA_CONSOLIDATED)
    r["publisher_id"] = opra
    r["instrument_id"] = universe.c_id
    r["ts_event"] = ts_event + np.arange(n) * US
    r["ts_recv"] = r["ts_event"] + 210 * US
    for name in (
        "min_price_increment",
        "display_factor",
        "high_limit_price",
        "low_limit_price",
        "max_price_variation",
        "unit_of_measure_qty",
        "min_price_increment_amount",
        "price_ratio",
        "leg_price",
        "leg_delta",
    ):
        r[name] = dbn.UNDEF_PRICE
    r["activation"] = dbn.UNDEF_TIMESTAMP
    for name in (
        "inst_attrib_value",
        "market_depth_implied",
        "market_depth",
        "min_lot_size",
        "min_lot_size_block",
        "min_lot_size_round_lot",
        "contract_multiplier",
        "decay_quantity",
        "original_contract_size",
    ):
        r[name] = 2**31 - 1
    for name in ("market_segment_id", "max_trade_vol", "min_trade_vol"):
        r[name] = 2**32 - 1
    r["appl_id"] = 2**15 - 1
    r["maturity_year"] = 2**16 - 1
    r["decay_start_date"] = 2**16 - 1
    for name in (
        "main_fraction",
        "price_display_format",
        "sub_fraction",
        "underlying_product",
        "maturity_month",
        "maturity_day",
        "maturity_week",
        "tick_rule",
    ):
        r[name] = 255
    r["contract_multiplier_unit"] = 127
    r["flow_schedule_type"] = 127
    # Expiration is midnight UTC of the expiry date, as in Databento's OPRA definitions.
    expiry_midnight = (universe.c_expiry_ns // (86_400 * NS)) * (86_400 * NS)
    r["expiration"] = expiry_midnight
    r["strike_price"] = np.round(universe.c_strike * 1000).astype(np.int64) * (NS // 1000)
    r["underlying_id"] = opra
    r["raw_instrument_id"] = universe.c_id
    r["channel_id"] = 1
    r["currency"] = b"USD"
    r["group"] = b"popra-1"
    r["exchange"] = b"OPRA"
    r["security_type"] = b"OPT"
    r["unit_of_measure"] = b"USD"
    r["strike_price_currency"] = b"USD"
    tickers = np.array([t.encode() for t in universe.tickers], dtype="S21")
    r["underlying"] = tickers[universe.c_under]
    r["asset"] = tickers[universe.c_under].astype("S11")
    r["raw_symbol"] = np.array([s.encode() for s in universe.c_symbol], dtype="S71")
    r["instrument_class"] = np.where(universe.c_put, b"P", b"C")
    r["match_algorithm"] = b" "
    r["security_update_action"] = b"A"
    r["user_defined_instrument"] = b"N"
    r["leg_instrument_class"] = b" "
    r["leg_side"] = b"N"
    return dbn.DbnFile(DATASET, "definition", r, _symbology(universe))


def statistics_file(
    nprng: np.random.Generator,
    universe: Universe,
    open_interest: np.ndarray,
    venues: np.ndarray,
    ts_event: int,
) -> dbn.DbnFile:
    """`statistics`: open interest once per contract per venue (identical values), as OPRA does."""
    n = universe.n_contracts
    per = nprng.integers(4, 7, size=n)
    contract = np.repeat(np.arange(n), per)
    pubs = np.concatenate([nprng.choice(venues, size=k, replace=False) for k in per])
    r = dbn.empty_records("statistics", len(contract))
    r["publisher_id"] = pubs
    r["instrument_id"] = universe.c_id[contract]
    r["ts_event"] = ts_event + contract * US
    r["ts_recv"] = r["ts_event"] + 210 * US
    r["ts_ref"] = dbn.UNDEF_TIMESTAMP
    r["price"] = dbn.UNDEF_PRICE
    r["quantity"] = open_interest[contract]
    order_key = r["ts_recv"].astype(np.int64) + np.arange(len(pubs))  # file order breaks ties
    r["sequence"] = sequence_by_publisher(pubs, order_key)
    r["stat_type"] = 9  # StatType.OPEN_INTEREST
    r["channel_id"] = 1
    r["update_action"] = 1  # StatUpdateAction.NEW
    return dbn.DbnFile(DATASET, "statistics", r, _symbology(universe))
