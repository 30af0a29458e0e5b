"""LO option quotes: two-sided top of book priced by Black-76 on the future's mid from the known
smile, requoted when the future's mid moves and when the smile steps.

Pricing convention (what a consumer re-derives): a quote whose prices changed is priced at its
own `ts_recv` t on the mid of its future in force then (the last futures record with
`ts_recv <= t`), with T = (expiration - t) / (365 days in ns) and the smile parameters in force
at t. Its mid is that value rounded to the half cent, its spread 1-6 cents (the option's own
width, a cent narrower when the mid is on a half cent; the bid never under a cent); a quote that
only changes sizes keeps the prices before it.
Inside a quiet window no option quote changes at all; at its end every option is quoted again.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from synth import black76
from synth.cme_futures import FuturesTape
from synth.cme_instruments import TICK, Chain
from synth.cme_smile import NS, YEAR_NS, SmilePath
from synth.dbn import F_LAST

OPTION_LEAD_NS = 1_000_000  # the chains' first quotes, this long before the open
REQUOTE_LATENCY_NS = (100_000, 900_000)  # from the future's move (or the smile's step)
STAGGER_NS = 250  # successive options of one requote go out this far apart
HALF_SPREAD_TICKS = (1, 4)  # drawn once per option: spreads of 1-2, 3-4 or 5-6 cents
QUOTE_SIZE = (5, 150)


@dataclass
class OptionQuotes:
    """Every LO `mbp-1` record, in `ts_recv` order. `priced` marks the records whose prices were
    computed at their own `ts_recv` (the first quote and every price change or refresh)."""

    instrument_id: np.ndarray
    ts_event: np.ndarray
    ts_recv: np.ndarray
    action: np.ndarray
    side: np.ndarray
    bid_px: np.ndarray
    ask_px: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray
    priced: np.ndarray

    def __len__(self) -> int:
        return len(self.ts_recv)

    def price(self) -> np.ndarray:
        """The price of the side each record names."""
        return np.where(self.side == b"B", self.bid_px, self.ask_px)

    def size(self) -> np.ndarray:
        """The size of the side each record names."""
        return np.where(self.side == b"B", self.bid_sz, self.ask_sz)

    def flags(self) -> np.ndarray:
        """Every record is a whole top-of-book event of its option."""
        return np.full(len(self), F_LAST, dtype=np.uint8)


@dataclass(frozen=True)
class QuotingRules:
    """What every chain is quoted under: the session's span (ns), its quiet [start, end)
    windows (ns), the discount rate and the size-only changes per option per second."""

    open_ns: int
    close_ns: int
    quiet: list[tuple[int, int]]
    rate: float
    size_updates_per_second: float


def option_quotes(
    rng: np.random.Generator,
    chains: list[Chain],
    tape: FuturesTape,
    smile: SmilePath,
    rules: QuotingRules,
) -> OptionQuotes:
    """The quotes of every chain, expiry `e` priced on row `e` of the smile."""
    parts = [_chain_quotes(rng, e, chain, tape, smile, rules) for e, chain in enumerate(chains)]
    names = OptionQuotes.__dataclass_fields__
    quotes = OptionQuotes(**{n: np.concatenate([getattr(p, n) for p in parts]) for n in names})
    order = np.lexsort((quotes.instrument_id, quotes.ts_recv))
    return OptionQuotes(**{n: getattr(quotes, n)[order] for n in names})


def _in_windows(ts: np.ndarray, windows: list[tuple[int, int]], lead: int = 0) -> np.ndarray:
    inside = np.zeros(len(ts), dtype=bool)
    for start, end in windows:
        inside |= (ts >= start - lead) & (ts < end)
    return inside


def _requote_times(
    rng: np.random.Generator, chain: Chain, tape: FuturesTape, smile: SmilePath, rules: QuotingRules
) -> tuple[np.ndarray, np.ndarray]:
    """Requote instants of one chain and whether each must quote every option (first quote,
    end of a quiet window) rather than only the options whose prices changed."""
    rows = tape.rows_of(chain.future)
    ends = rows[(tape.flags[rows] & F_LAST) != 0]
    mids = tape.mid()[ends]
    moved = tape.ts_recv[ends][1:][mids[1:] != mids[:-1]]
    triggers = np.concatenate([moved, smile.step_ns])
    triggers = triggers + rng.integers(*REQUOTE_LATENCY_NS, len(triggers))
    forced = np.array(
        [rules.open_ns - OPTION_LEAD_NS] + [end for _, end in rules.quiet], dtype=np.int64
    )
    span = chain.n_options * STAGGER_NS
    inside = _in_windows(triggers, rules.quiet, span)
    triggers = triggers[~inside & (triggers < rules.close_ns - span)]
    times = np.concatenate([forced, triggers])
    is_forced = np.concatenate([np.ones(len(forced), bool), np.zeros(len(triggers), bool)])
    order = np.argsort(times, kind="stable")
    times, is_forced = times[order], is_forced[order]
    keep = np.ones(len(times), dtype=bool)
    keep[1:] = times[1:] != times[:-1]  # a forced instant sorts first and wins a tie
    return times[keep], is_forced[keep]


def _chain_quotes(
    rng: np.random.Generator,
    expiry: int,
    chain: Chain,
    tape: FuturesTape,
    smile: SmilePath,
    rules: QuotingRules,
) -> OptionQuotes:
    times, forced = _requote_times(rng, chain, tape, smile, rules)
    n = chain.n_options
    ids = np.concatenate([chain.call_ids, chain.put_ids])
    strikes = np.tile(chain.strikes, 2) / 1e9
    is_call = np.arange(n) < len(chain.strikes)
    half = rng.integers(*HALF_SPREAD_TICKS, n)

    ts = times[:, None] + STAGGER_NS * np.arange(n, dtype=np.int64)
    forward = tape.mid_at(chain.future, ts) / 1e9
    years = (chain.expiration - ts) / YEAR_NS
    vol = smile.vol(expiry, smile.index_at(ts), np.log(strikes / forward))
    theo = black76.price(forward, strikes, years, vol, rules.rate, is_call)
    # The mid is the value to the half cent: an even spread of 2 * half around a whole cent,
    # an odd one (a cent narrower) around a half cent.
    twice_mid = np.rint(2 * theo / (TICK / 1e9)).astype(np.int64)
    spread = 2 * half - (twice_mid % 2)
    bid = np.maximum((twice_mid - spread) // 2, 1)
    ask = np.maximum((twice_mid + spread) // 2, bid + 1)
    bid_moved = np.ones_like(bid, dtype=bool)
    bid_moved[1:] = bid[1:] != bid[:-1]
    ask_moved = np.ones_like(ask, dtype=bool)
    ask_moved[1:] = ask[1:] != ask[:-1]
    emit = bid_moved | ask_moved | forced[:, None]
    batch, option = np.nonzero(emit)

    count = len(batch)
    priced = _Quotes(
        option=option,
        ts_recv=ts[batch, option],
        bid_px=bid[batch, option] * TICK,
        ask_px=ask[batch, option] * TICK,
        bid_sz=rng.integers(*QUOTE_SIZE, count),
        ask_sz=rng.integers(*QUOTE_SIZE, count),
        side=np.where(bid_moved[batch, option], b"B", b"A").astype("S1"),
        action=np.where(batch == 0, b"A", b"M").astype("S1"),
    )
    sized = _size_updates(rng, n, rules)
    merged = _merge(priced, sized)
    return OptionQuotes(
        instrument_id=ids[merged.option],
        ts_event=merged.ts_recv - rng.integers(5_000, 30_000, len(merged.option)),
        ts_recv=merged.ts_recv,
        action=merged.action,
        side=merged.side,
        bid_px=merged.bid_px,
        ask_px=merged.ask_px,
        bid_sz=merged.bid_sz,
        ask_sz=merged.ask_sz,
        priced=merged.priced,
    )


@dataclass
class _Quotes:
    """Quote records of one chain by option index; -1 marks a value to carry forward."""

    option: np.ndarray
    ts_recv: np.ndarray
    bid_px: np.ndarray
    ask_px: np.ndarray
    bid_sz: np.ndarray
    ask_sz: np.ndarray
    side: np.ndarray
    action: np.ndarray
    priced: np.ndarray | None = None


def _size_updates(rng: np.random.Generator, n_options: int, rules: QuotingRules) -> _Quotes:
    """Size-only changes of one side of a quote, at random instants outside the quiet windows."""
    duration = rules.close_ns - rules.open_ns
    count = rng.poisson(rules.size_updates_per_second * n_options * duration / NS)
    ts = rules.open_ns + rng.integers(1, duration, count)
    option = rng.integers(0, n_options, count)
    on_bid = rng.random(count) < 0.5
    size = rng.integers(*QUOTE_SIZE, count)
    keep = ~_in_windows(ts, rules.quiet)
    on_bid, size = on_bid[keep], size[keep]
    unset = np.full(len(size), -1, dtype=np.int64)
    return _Quotes(
        option=option[keep],
        ts_recv=ts[keep],
        bid_px=unset,
        ask_px=unset,
        bid_sz=np.where(on_bid, size, -1),
        ask_sz=np.where(on_bid, -1, size),
        side=np.where(on_bid, b"B", b"A").astype("S1"),
        action=np.full(len(size), b"M", dtype="S1"),
    )


def _merge(priced: _Quotes, sized: _Quotes) -> _Quotes:
    """Both kinds of record per option in time order, every unset value carried forward from
    the option's record before it (each option's first record is a priced one)."""
    names = ("option", "ts_recv", "bid_px", "ask_px", "bid_sz", "ask_sz", "side", "action")
    columns = {n: np.concatenate([getattr(priced, n), getattr(sized, n)]) for n in names}
    is_priced = np.concatenate(
        [np.ones(len(priced.option), bool), np.zeros(len(sized.option), bool)]
    )
    order = np.lexsort((~is_priced, columns["ts_recv"], columns["option"]))
    columns = {n: c[order] for n, c in columns.items()}
    for name in ("bid_px", "ask_px", "bid_sz", "ask_sz"):
        values = columns[name]
        positions = np.where(values >= 0, np.arange(len(values)), 0)
        columns[name] = values[np.maximum.accumulate(positions)]
    return _Quotes(**columns, priced=is_priced[order])
