"""The synthetic CME session as Databento `GLBX.MDP3` record arrays: `definition`, `trades`,
`mbp-10` (futures) and `mbp-1` (futures and options), publisher 1, raw symbols mapped to
instrument ids as in Databento's GLBX files.

Definitions copy the conventions of the real GLBX definitions (`ESM4`, `ESM4 P5250`): a
future is class `F`, security type `FUT`; an option class `C`/`P`, type `OOF`, CFI
`OCAFPS`/`OPAFPS` (American, on a future), naming its future by `underlying_id` and
`underlying`. Multipliers are `unit_of_measure_qty` (1,000 barrels), ticks
`min_price_increment` (a cent); fields the synthetic market has no value for hold
Databento's null of their type.
"""

from __future__ import annotations

import numpy as np

from synth import dbn
from synth.cme_futures import DEPTH, FuturesTape
from synth.cme_instruments import (
    FUTURE_ROOT,
    MULTIPLIER,
    OPTION_ROOT,
    TICK,
    Chain,
    Future,
)
from synth.cme_options import OptionQuotes

DATASET = "GLBX.MDP3"
PUBLISHER_GLBX = 1  # GLBX.MDP3.GLBX
EXCHANGE = b"XNYM"  # NYMEX lists CL and LO
DISPLAY_FACTOR = 10_000_000  # 0.01, as on the real GLBX definitions
FIRST_SEQUENCE = 1_000_000
_NULL_I32 = 2**31 - 1
_NULL_U32 = 2**32 - 1


def symbology(futures: list[Future], chains: list[Chain]) -> dict[int, str]:
    """Instrument id -> raw symbol of every listed instrument."""
    out = {f.instrument_id: f.symbol for f in futures}
    for chain in chains:
        out.update(zip(chain.call_ids.tolist(), chain.call_symbols, strict=True))
        out.update(zip(chain.put_ids.tolist(), chain.put_symbols, strict=True))
    return out


def sequences(tape: FuturesTape, quotes: OptionQuotes) -> tuple[np.ndarray, np.ndarray]:
    """One channel's sequence numbers over the futures records and the option quotes in feed
    order (`ts_recv`, futures before options at a tie); a futures record keeps its number in
    every schema it appears in."""
    ts = np.concatenate([tape.ts_recv, quotes.ts_recv])
    source = np.concatenate([np.zeros(len(tape), np.int64), np.ones(len(quotes), np.int64)])
    order = np.lexsort((np.arange(len(ts)), source, ts))
    rank = np.empty(len(ts), dtype=np.int64)
    rank[order] = np.arange(len(ts))
    sequence = FIRST_SEQUENCE + rank
    return sequence[: len(tape)], sequence[len(tape) :]


def definition_file(futures: list[Future], chains: list[Chain], ts_recv: int) -> dbn.DbnFile:
    """`definition`: the futures, then each chain's calls and puts by strike."""
    n_options = sum(chain.n_options for chain in chains)
    r = dbn.empty_records("definition", len(futures) + n_options)
    _null_fields(r)
    r["publisher_id"] = PUBLISHER_GLBX
    r["ts_recv"] = ts_recv
    r["ts_event"] = ts_recv - 1_000_000_000 * (1 + np.arange(len(r)))
    r["min_price_increment"] = TICK
    r["display_factor"] = DISPLAY_FACTOR
    r["unit_of_measure_qty"] = MULTIPLIER * 1_000_000_000
    r["min_price_increment_amount"] = TICK * MULTIPLIER
    r["security_update_action"] = b"A"
    r["currency"] = b"USD"
    r["exchange"] = EXCHANGE
    r["unit_of_measure"] = b"BBL"
    r["match_algorithm"] = b"F"
    r["user_defined_instrument"] = b"N"
    r["leg_side"] = b"N"
    r["leg_instrument_class"] = b" "
    r["min_trade_vol"] = 1

    f = r[: len(futures)]
    f["instrument_id"] = [x.instrument_id for x in futures]
    f["raw_symbol"] = [x.symbol.encode() for x in futures]
    f["expiration"] = [x.expiration for x in futures]
    f["activation"] = [x.activation for x in futures]
    f["maturity_year"] = [x.year for x in futures]
    f["maturity_month"] = [x.month for x in futures]
    f["instrument_class"] = b"F"
    f["security_type"] = b"FUT"
    f["cfi"] = b"FCEPSX"
    f["asset"] = FUTURE_ROOT.encode()
    f["group"] = FUTURE_ROOT.encode()
    f["market_depth"] = DEPTH
    f["strike_price"] = dbn.UNDEF_PRICE

    start = len(futures)
    for chain in chains:
        future = futures[chain.future]
        o = r[start : start + chain.n_options]
        start += chain.n_options
        o["instrument_id"] = np.concatenate([chain.call_ids, chain.put_ids])
        o["raw_symbol"] = [s.encode() for s in chain.call_symbols + chain.put_symbols]
        o["instrument_class"] = [b"C"] * len(chain.strikes) + [b"P"] * len(chain.strikes)
        o["cfi"] = [b"OCAFPS"] * len(chain.strikes) + [b"OPAFPS"] * len(chain.strikes)
        o["strike_price"] = np.tile(chain.strikes, 2)
        o["expiration"] = chain.expiration
        o["activation"] = future.activation
        o["maturity_year"] = future.year
        o["maturity_month"] = future.month
        o["underlying_id"] = future.instrument_id
        o["underlying"] = future.symbol.encode()
        o["strike_price_currency"] = b"USD"
        o["security_type"] = b"OOF"
        o["asset"] = OPTION_ROOT.encode()
        o["group"] = OPTION_ROOT.encode()
        o["market_depth"] = 3
        o["channel_id"] = 1
    r["raw_instrument_id"] = r["instrument_id"]
    return dbn.DbnFile(DATASET, "definition", r, symbology(futures, chains))


def _null_fields(r: np.ndarray) -> None:
    for name in (
        "high_limit_price", "low_limit_price", "max_price_variation", "price_ratio",
        "leg_price", "leg_delta",
    ):  # fmt: skip
        r[name] = dbn.UNDEF_PRICE
    for name in (
        "inst_attrib_value", "contract_multiplier", "decay_quantity", "original_contract_size",
        "market_depth_implied",
    ):  # fmt: skip
        r[name] = _NULL_I32
    r["market_segment_id"] = _NULL_U32
    r["max_trade_vol"] = _NULL_U32
    r["appl_id"] = 2**15 - 1
    r["decay_start_date"] = 2**16 - 1
    for name in (
        "main_fraction", "price_display_format", "sub_fraction", "underlying_product",
        "maturity_day", "maturity_week", "tick_rule",
    ):  # fmt: skip
        r[name] = 255
    r["contract_multiplier_unit"] = 127
    r["flow_schedule_type"] = 127


def _book_header(r: np.ndarray, tape: FuturesTape, rows: np.ndarray, ids: np.ndarray,
                 sequence: np.ndarray) -> None:  # fmt: skip
    r["publisher_id"] = PUBLISHER_GLBX
    r["instrument_id"] = ids[tape.future[rows]]
    r["ts_event"] = tape.ts_event[rows]
    r["ts_recv"] = tape.ts_recv[rows]
    r["ts_in_delta"] = tape.ts_in_delta[rows]
    r["sequence"] = sequence[rows]
    r["action"] = tape.action[rows]
    r["side"] = tape.side[rows]
    r["depth"] = tape.depth[rows]
    r["price"] = tape.price[rows]
    r["size"] = tape.size[rows]
    r["flags"] = tape.flags[rows]


def _levels(r: np.ndarray, tape: FuturesTape, rows: np.ndarray, depth: int) -> None:
    for level in range(depth):
        r[f"bid_px_{level:02d}"] = tape.bid_px[rows, level]
        r[f"ask_px_{level:02d}"] = tape.ask_px[rows, level]
        r[f"bid_sz_{level:02d}"] = tape.bid_sz[rows, level]
        r[f"ask_sz_{level:02d}"] = tape.ask_sz[rows, level]
        r[f"bid_ct_{level:02d}"] = order_count(tape.bid_sz[rows, level])
        r[f"ask_ct_{level:02d}"] = order_count(tape.ask_sz[rows, level])


def order_count(size: np.ndarray) -> np.ndarray:
    """Orders resting at a level of `size` lots: about one per eight lots."""
    return np.asarray(1 + size // 8)


def _future_ids(futures: list[Future]) -> np.ndarray:
    return np.array([f.instrument_id for f in futures], dtype=np.int64)


def trades_file(futures: list[Future], tape: FuturesTape, sequence: np.ndarray) -> dbn.DbnFile:
    """`trades`: every futures trade with its aggressor side."""
    rows = np.flatnonzero(tape.action == b"T")
    r = dbn.empty_records("trades", len(rows))
    _book_header(r, tape, rows, _future_ids(futures), sequence)
    return dbn.DbnFile(DATASET, "trades", r, symbology(futures, []))


def mbp10_file(futures: list[Future], tape: FuturesTape, sequence: np.ndarray) -> dbn.DbnFile:
    """`mbp-10`: every futures book record with its ten levels a side."""
    rows = np.arange(len(tape))
    r = dbn.empty_records("mbp-10", len(rows))
    _book_header(r, tape, rows, _future_ids(futures), sequence)
    _levels(r, tape, rows, DEPTH)
    return dbn.DbnFile(DATASET, "mbp-10", r, symbology(futures, []))


def mbp1_file(
    futures: list[Future],
    chains: list[Chain],
    tape: FuturesTape,
    tape_sequence: np.ndarray,
    quotes: OptionQuotes,
    quote_sequence: np.ndarray,
) -> dbn.DbnFile:
    """`mbp-1`: the futures records at the top of the book (trades included) and every option
    quote, in feed order."""
    rows = np.flatnonzero(tape.depth == 0)
    top = dbn.empty_records("mbp-1", len(rows))
    _book_header(top, tape, rows, _future_ids(futures), tape_sequence)
    _levels(top, tape, rows, 1)

    o = dbn.empty_records("mbp-1", len(quotes))
    o["publisher_id"] = PUBLISHER_GLBX
    o["instrument_id"] = quotes.instrument_id
    o["ts_event"] = quotes.ts_event
    o["ts_recv"] = quotes.ts_recv
    o["ts_in_delta"] = (quotes.ts_recv - quotes.ts_event).astype(np.int32)
    o["sequence"] = quote_sequence
    o["action"] = quotes.action
    o["side"] = quotes.side
    o["price"] = quotes.price()
    o["size"] = quotes.size()
    o["flags"] = quotes.flags()
    o["bid_px_00"] = quotes.bid_px
    o["ask_px_00"] = quotes.ask_px
    o["bid_sz_00"] = quotes.bid_sz
    o["ask_sz_00"] = quotes.ask_sz
    o["bid_ct_00"] = order_count(quotes.bid_sz)
    o["ask_ct_00"] = order_count(quotes.ask_sz)

    records = np.concatenate([top, o])
    records = records[np.argsort(records["sequence"], kind="stable")]
    return dbn.DbnFile(DATASET, "mbp-1", records, symbology(futures, chains))
