"""Closing packets: features, multi-leg structure; the classifiers then score them.

A closed (contract, side) packet either stands alone (single, block, split, sweep) or, when
it opened at the same moment on the same venue as packets of other contracts of the same
underlying, becomes a leg of one multi-leg packet. Everything here is integer arithmetic on
the members plus fixed-point rounding, so output bits depend on the members only.
"""

from __future__ import annotations

from math import gcd

from compute.calendar import from_ymd, is_trading_day, new_york_day_bounds, trading_days_to
from compute.flow.baselines import fixed_ratio, push_samples
from compute.flow.classifiers import score_packet
from compute.flow.config import EngineConfig
from compute.flow.state import (
    UNLIMITED,
    ContractState,
    EngineState,
    OpenPacket,
)
from compute.flow.structures import LegTerms, tag_structure
from schemas.events import (
    Event,
    FlowPacket,
    PacketKind,
    PacketLeg,
    Side,
)
from schemas.ids import make_id

PREMIUM_DIVISOR = 10_000_000  # price (1e-9 $) * size * multiplier -> cents
BUCKETS = ("AA", "A", "M", "B", "BB", "NA")
_BUCKET_INDEX = {name: i for i, name in enumerate(BUCKETS)}


def packet_day(state: EngineState, ts_recv: int) -> int:
    """The New York trading date of an event time, cached in the state."""
    if state.day_begin <= ts_recv < state.day_end:
        return state.day
    day, begin, end = new_york_day_bounds(ts_recv)
    if ts_recv >= state.day_begin:
        state.day, state.day_begin, state.day_end = day, begin, end
    return day


def emit_parts(state: EngineState, parts: list[OpenPacket], out: list[Event]) -> None:
    """Emit closed packets that opened together: each set of them joined by the venues
    their prints share is one order, a multi-leg packet if it forms one."""
    for order in _orders_by_venue(parts):
        _emit_order(state, order, out)


def _orders_by_venue(parts: list[OpenPacket]) -> list[list[OpenPacket]]:
    """Parts joined by the venues their prints share (directly or through other parts),
    each set in the order of its first part.

    Every leg of a complex order prints on the venue that executed it (a leg swept across
    venues prints there too), so packets of one moment that share no venue, directly or
    through other legs, are unrelated orders that happened to print in the same instant.
    """
    if len(parts) == 1:
        return [parts]
    root = list(range(len(parts)))

    def find(i: int) -> int:
        while root[i] != i:
            root[i] = root[root[i]]
            i = root[i]
        return i

    first_on_venue: dict[int, int] = {}
    for i, part in enumerate(parts):
        for m in part.members:
            a, b = find(i), find(first_on_venue.setdefault(m.publisher_id, i))
            if a != b:
                root[max(a, b)] = min(a, b)
    orders: dict[int, list[OpenPacket]] = {}
    for i, part in enumerate(parts):
        orders.setdefault(find(i), []).append(part)
    return list(orders.values())


def _emit_order(state: EngineState, parts: list[OpenPacket], out: list[Event]) -> None:
    if len(parts) == 1:
        emit_single_leg(state, parts[0], out)
        return
    cfg = state.config
    sizes: dict[int, int] = {}
    for part in parts:
        total = 0
        for member in part.members:
            total += member.size
        sizes[part.instrument_id] = sizes.get(part.instrument_id, 0) + total
    n_legs = len(sizes)
    smallest, largest = min(sizes.values()), max(sizes.values())
    if 2 <= n_legs <= cfg.multi_leg_max_legs and largest <= cfg.multi_leg_max_ratio * smallest:
        _emit_multi_leg(state, parts, out)
    else:
        for part in parts:
            emit_single_leg(state, part, out)


class _Leg:
    __slots__ = ("instrument_id", "size", "notional", "n", "venues", "buy", "sell")

    def __init__(self, instrument_id: int) -> None:
        self.instrument_id = instrument_id
        self.size = 0
        self.notional = 0
        self.n = 0
        self.venues: set[int] = set()
        self.buy = 0
        self.sell = 0


def _side_of(buy: int, sell: int) -> Side:
    if buy > sell:
        return "buy"
    if sell > buy:
        return "sell"
    return "unknown"


def count_day_volume(c: ContractState, day: int, size: int, cfg: EngineConfig) -> None:
    """Add a packet's size to its contract's volume of `day` (the New York date of its first
    print's receive time, so a packet spanning midnight counts to the day it opened on).

    A packet of a day the contract has already left is not counted: only a late print can
    be one, and the day it belongs to is closed (its volume joined the history, its unusual
    volume was judged); counting it would restart that day from zero.
    """
    if c.volume_day > day:
        return
    if c.volume_day != day:
        start_volume_day(c, day, cfg)
    c.day_volume += size


def start_volume_day(c: ContractState, day: int, cfg: EngineConfig) -> None:
    """Start counting the contract's volume of `day` (YYYYMMDD)."""
    if 0 < c.volume_day < day:
        c.past_volume_total, c.avg_volume_limit = roll_volume_history(
            c.past_volumes, c.volume_day, c.day_volume, day, cfg
        )
    c.volume_day = day
    c.day_volume = 0


def roll_volume_history(
    past: list[int], volume_day: int, day_volume: int, day: int, cfg: EngineConfig
) -> tuple[int, int]:
    """Move a contract's daily history forward from `volume_day` to `day`; returns the
    history's total and the day volume above which `day` is unusual.

    The finished day and the sessions since it without a print (volume 0) join the history
    (`past`, oldest first, changed in place), of which the last `unusual_volume_days` are
    kept; the unusual limit is fixed here, once a day.
    """
    keep = cfg.unusual_volume_days
    past.append(day_volume)
    if (from_ymd(day) - from_ymd(volume_day)).days > 2 * keep:
        quiet = keep  # months without a print: the whole history is quiet sessions
    else:
        quiet = trading_days_to(volume_day, day) - (1 if is_trading_day(day) else 0)
    past.extend([0] * min(quiet, keep))
    if len(past) > keep:
        del past[: len(past) - keep]
    total = sum(past)
    days = len(past)
    if days >= cfg.unusual_volume_min_days and total > 0:
        return total, int(cfg.unusual_volume_multiple * total / days)
    return total, UNLIMITED


def _leg_terms(
    state: EngineState, c: ContractState, day: int, size: int
) -> tuple[float | None, int | None]:
    """Moneyness (signed, in-the-money positive) and sessions to expiry; counts day volume."""
    count_day_volume(c, day, size, state.config)
    spot = state.spots.get(c.underlying)
    moneyness: float | None = None
    strike = c.strike_price
    if spot and strike > 0:
        diff = spot - strike if c.right == "C" else strike - spot
        moneyness = fixed_ratio(diff, spot)
    dte = trading_days_to(day, c.expiration_date) if c.expiration_date else None
    return moneyness, dte


def emit_single_leg(state: EngineState, part: OpenPacket, out: list[Event]) -> None:
    """Emit one closed (contract, side) packet: single, block, split or sweep."""
    # The hot path of the engine (one call per packet): locals over helpers on purpose.
    cfg = state.config
    members = part.members
    c = state.contracts[part.instrument_id]
    n = len(members)
    head = members[0]
    bucket_counts: dict[str, int]
    spread_bps = -1
    if n == 1:
        size = head.size
        notional = head.price * size
        ts_start = ts_end = head.ts_event
        venues = [head.publisher_id]
        levels = 1
        side_of_print = head.side
        buy = size if side_of_print == "buy" else 0
        sell = size if side_of_print == "sell" else 0
        covered = 0 if head.bucket == "NA" else 1
        bucket_counts = {head.bucket: 1}
        bid, ask = head.nbbo_bid_px, head.nbbo_ask_px
        if bid is not None and ask is not None and bid + ask > 0:
            spread_bps = (ask - bid) * 20_000 // (bid + ask)
    else:
        counts = [0, 0, 0, 0, 0, 0]
        venue_set: set[int] = set()
        prices: set[int] = set()
        ts_start = ts_end = head.ts_event
        size = notional = buy = sell = 0
        for m in members:
            msize = m.size
            size += msize
            notional += m.price * msize
            venue_set.add(m.publisher_id)
            prices.add(m.price)
            if m.side == "buy":
                buy += msize
            elif m.side == "sell":
                sell += msize
            counts[_BUCKET_INDEX[m.bucket]] += 1
            if m.ts_event < ts_start:
                ts_start = m.ts_event
            elif m.ts_event > ts_end:
                ts_end = m.ts_event
            if spread_bps < 0:
                bid, ask = m.nbbo_bid_px, m.nbbo_ask_px
                if bid is not None and ask is not None and bid + ask > 0:
                    spread_bps = (ask - bid) * 20_000 // (bid + ask)
        covered = n - counts[5]
        venues = sorted(venue_set)
        levels = len(prices)
        bucket_counts = {BUCKETS[i]: counts[i] for i in range(6) if counts[i]}
    premium = notional * c.multiplier // PREMIUM_DIVISOR
    first_ts = part.first_ts_recv
    if state.day_begin <= first_ts < state.day_end:
        day = state.day
    else:
        day = packet_day(state, first_ts)
    # day volume, moneyness and days to expiry
    count_day_volume(c, day, size, cfg)
    underlying = part.underlying
    spot = state.spots.get(underlying)
    moneyness: float | None = None
    strike = c.strike_price
    if spot and strike > 0:
        moneyness = fixed_ratio(spot - strike if c.right == "C" else strike - spot, spot)
    dte = trading_days_to(day, c.expiration_date) if c.expiration_date else None
    side: Side = "buy" if buy > sell else "sell" if sell > buy else "unknown"
    kind: PacketKind
    if n == 1:
        big = size >= cfg.block_min_size or premium >= cfg.block_min_premium_cents
        kind = "block" if big else "single"
    else:
        kind = "sweep" if len(venues) >= 2 else "split"
    run_id = state.run_id
    leg = PacketLeg(
        part.instrument_id,
        c.symbol,
        "P" if c.right == "P" else "C",
        strike,
        c.expiration_date,
        side,
        size,
        premium,
        n,
        venues,
        notional // size,
        1,
        moneyness,
        dte,
        c.day_volume,
        c.open_interest,
    )
    packet = FlowPacket(
        part.last_ts_recv,
        make_id(
            "flow_packet",
            run_id,
            head.instrument_id,
            head.publisher_id,
            head.ts_event,
            head.sequence,
        ),  # fmt: skip
        run_id,
        kind,
        "",
        underlying,
        ts_start,
        ts_end,
        side,
        premium,
        size,
        n,
        venues,
        levels,
        [leg],
        bucket_counts,
        fixed_ratio(buy if buy > sell else sell, size) if n > 1 else 0.0 if buy == sell else 1.0,
        1.0 if covered == n else fixed_ratio(covered, n),
        spot,
        members,
        part.late,
    )
    out.append(packet)
    base = state.baselines.get(underlying)
    if (
        base is not None
        and first_ts - base.last_ts <= cfg.rolling_ttl_ns
        and (kind == "single" or kind == "split")
        and premium < cfg.classifier_spike_min_premium_cents
        and n < cfg.classifier_repeated_hits_min_prints
        and (c.unusual_day == day or c.day_volume <= c.avg_volume_limit
             and (c.open_interest is None or c.day_volume <= c.open_interest))
        and not part.late
    ):  # fmt: skip
        # Most packets: no rule can fire (`_score` would find no hit); the baselines learn.
        if first_ts > base.last_ts:
            base.last_ts = first_ts
        push_samples(base, premium, size, spread_bps, cfg.rolling_window_size)
        return
    score_packet(state, packet, spread_bps, [c], day, first_ts, out)


def _emit_multi_leg(state: EngineState, parts: list[OpenPacket], out: list[Event]) -> None:
    """Packets of several contracts that opened together on one venue: one multi-leg packet."""
    contracts = state.contracts
    first = parts[0]
    members = [m for p in parts for m in p.members]
    underlying = first.underlying
    ts_recv = max(p.last_ts_recv for p in parts)
    day = packet_day(state, first.first_ts_recv)

    legs: dict[int, _Leg] = {}
    counts = [0, 0, 0, 0, 0, 0]
    venues: set[int] = set()
    levels: set[tuple[int, int]] = set()
    ts_start = ts_end = members[0].ts_event
    size = buy = sell = 0
    for m in members:
        iid = m.instrument_id
        leg = legs.get(iid)
        if leg is None:
            leg = legs[iid] = _Leg(iid)
        msize = m.size
        leg.size += msize
        leg.notional += m.price * msize
        leg.n += 1
        leg.venues.add(m.publisher_id)
        venues.add(m.publisher_id)
        levels.add((iid, m.price))
        size += msize
        if m.side == "buy":
            buy += msize
            leg.buy += msize
        elif m.side == "sell":
            sell += msize
            leg.sell += msize
        counts[_BUCKET_INDEX[m.bucket]] += 1
        if m.ts_event < ts_start:
            ts_start = m.ts_event
        elif m.ts_event > ts_end:
            ts_end = m.ts_event
    n = len(members)

    ratio_unit = 0
    for leg in legs.values():
        ratio_unit = gcd(ratio_unit, leg.size)
    premium = 0
    packet_legs: list[PacketLeg] = []
    terms: list[LegTerms] = []
    leg_contracts: list[ContractState] = []
    for leg in legs.values():
        c = contracts[leg.instrument_id]
        leg_premium = leg.notional * c.multiplier // PREMIUM_DIVISOR
        premium += leg_premium
        moneyness, dte = _leg_terms(state, c, day, leg.size)
        leg_side = _side_of(leg.buy, leg.sell)
        ratio = leg.size // ratio_unit if ratio_unit else 0
        packet_legs.append(
            PacketLeg(
                leg.instrument_id,
                c.symbol,
                "P" if c.right == "P" else "C",
                c.strike_price,
                c.expiration_date,
                leg_side,
                leg.size,
                leg_premium,
                leg.n,
                sorted(leg.venues),
                leg.notional // leg.size if leg.size else 0,
                ratio,
                moneyness,
                dte,
                c.day_volume,
                c.open_interest,
            )
        )
        terms.append(LegTerms(c.right, c.strike_price, c.expiration_date, leg_side, ratio))
        leg_contracts.append(c)

    leg_sides = {leg.side for leg in packet_legs}
    head = members[0]
    packet = FlowPacket(
        ts_recv,
        make_id(
            "flow_packet",
            state.run_id,
            head.instrument_id,
            head.publisher_id,
            head.ts_event,
            head.sequence,
        ),  # fmt: skip
        state.run_id,
        "multi_leg",
        tag_structure(terms),
        underlying,
        ts_start,
        ts_end,
        leg_sides.pop() if len(leg_sides) == 1 else "mixed",
        premium,
        size,
        n,
        sorted(venues),
        len(levels),
        packet_legs,
        {BUCKETS[i]: counts[i] for i in range(6) if counts[i]},
        fixed_ratio(max(buy, sell), size) if size else 0.0,
        fixed_ratio(n - counts[5], n),
        state.spots.get(underlying),
        members,
        first.late,
    )
    out.append(packet)
    spread_bps = -1
    for m in members:
        bid, ask = m.nbbo_bid_px, m.nbbo_ask_px
        if bid is not None and ask is not None and bid + ask > 0:
            spread_bps = (ask - bid) * 20_000 // (bid + ask)
            break
    score_packet(state, packet, spread_bps, leg_contracts, day, first.first_ts_recv, out)
