"""What one expiry of a chain says at an instant: its fresh quotes, forwards and smile.

A quote is usable when it is two-sided (both prices defined and positive), not crossed
(bid <= ask) and fresh. Freshness follows the feed (DOMAIN.md, NBBO freshness): a change
stream's quote (`mbp-1`, MBP-10) stays in force until it changes, and a stream gone silent
is the chain's `quiet` health, judged on the chain as a whole; a sampled quote (`bbo-1s`,
`bbo-1m`) is fresh for `max_quote_age_ms` after its sample. Vols are Black-76
on the expiry's underlying future's mid (the market's convention, see `black76`); the
parity forward stands in where that future has no two-sided quote. Time to expiry is in
years of 365 days.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import NamedTuple

from compute.alpha.black76 import forward_delta, implied_vol
from compute.alpha.config import MS
from compute.alpha.smile import SmilePoint, atm_vol, parity_forward, wing_vol
from compute.alpha.state import NO_ROW, AlphaState, ExpiryGroup
from schemas.cme import ExpiryFrame
from schemas.events import FIXED_DIGITS, PRICE_SCALE

YEAR_NS = 365 * 86_400 * 1_000_000_000
VOL_DIGITS = 6
TIME_DIGITS = 9


class Pricing(NamedTuple):
    """An expiry's inputs at `ts`: time to expiry (years), e^{rT}, the underlying future's
    mid and symbol, the parity forward with its strike count, and the forward vols use."""

    years: float
    growth: float
    underlying_mid: int | None
    underlying_symbol: str
    parity: float | None
    parity_strikes: int
    parity_age_ns: int
    forward: float | None


def _usable(state: AlphaState, row: int, oldest: int) -> bool:
    if row == NO_ROW or (state.sampled[row] and state.quote_ts[row] < oldest):
        return False
    bid = state.bid_px[row]
    return bid > 0 and state.ask_px[row] >= bid


def usable_mid(state: AlphaState, row: int, oldest: int) -> int | None:
    """The mid (1e-9, rounded down) of a row's usable quote (module docstring; a sample must
    be from `oldest` on), else None."""
    if not _usable(state, row, oldest):
        return None
    return (state.bid_px[row] + state.ask_px[row]) // 2


def fresh_mid(state: AlphaState, row: int, oldest: int) -> float | None:
    """`usable_mid` in price units, unrounded."""
    if not _usable(state, row, oldest):
        return None
    return (state.bid_px[row] + state.ask_px[row]) / (2 * PRICE_SCALE)


def oldest_fresh(state: AlphaState, ts: int) -> int:
    """The earliest sample time still fresh at `ts`."""
    return ts - state.config.max_quote_age_ms * MS


def pricing(state: AlphaState, group: ExpiryGroup, ts: int) -> Pricing:
    config = state.config
    years = (group.expiration - ts) / YEAR_NS
    growth = math.exp(config.rate * years)
    oldest = oldest_fresh(state, ts)
    underlying = state.rows.get(group.underlying_id)
    mid = None if underlying is None else usable_mid(state, underlying, oldest)
    symbol = "" if underlying is None else state.symbol[underlying]
    reference = None if mid is None or mid <= 0 else mid / PRICE_SCALE
    pairs: list[tuple[float, float, float, int]] = []  # distance, strike, C - P, oldest ts
    for at, strike in enumerate(group.strikes):
        call, put = group.calls[at], group.puts[at]
        call_mid, put_mid = fresh_mid(state, call, oldest), fresh_mid(state, put, oldest)
        if call_mid is None or put_mid is None:
            continue
        k = strike / PRICE_SCALE
        diff = call_mid - put_mid
        distance = abs(diff) if reference is None else abs(k - reference)
        pairs.append((distance, k, diff, min(state.quote_ts[call], state.quote_ts[put])))
    nearest = sorted(pairs)[: config.forward_strikes]
    parity = parity_forward([(k, diff) for _, k, diff, _ in nearest], growth)
    age = max((ts - seen for *_, seen in nearest), default=0)
    forward = reference if reference is not None else parity
    if forward is not None and forward <= 0.0:
        forward = None
    return Pricing(years, growth, mid, symbol, parity, len(nearest), age, forward)


def window(group: ExpiryGroup, forward: float, strikes_window: int) -> range:
    """The ladder positions within `strikes_window` strikes of the one nearest `forward`."""
    count = len(group.strikes)
    above = bisect_left(group.strikes, forward * PRICE_SCALE)
    nearest = min(
        (at for at in (above - 1, above) if 0 <= at < count),
        key=lambda at: abs(group.strikes[at] / PRICE_SCALE - forward),
    )
    return range(max(0, nearest - strikes_window), min(count, nearest + strikes_window + 1))


def expiry_frame(state: AlphaState, group: ExpiryGroup, ts: int) -> ExpiryFrame:
    """The expiry's figures at `ts` with their counts (`schemas.cme.ExpiryFrame`)."""
    config = state.config
    inputs = pricing(state, group, ts)
    forward = inputs.forward
    points: list[SmilePoint] = []
    fresh_strikes = rejected = 0
    oldest_used = ts if inputs.parity_strikes == 0 else ts - inputs.parity_age_ns
    if forward is not None and group.strikes:
        oldest = oldest_fresh(state, ts)
        for at in window(group, forward, config.strikes_window):
            call, put = group.calls[at], group.puts[at]
            call_mid, put_mid = fresh_mid(state, call, oldest), fresh_mid(state, put, oldest)
            if call_mid is None and put_mid is None:
                continue
            fresh_strikes += 1
            strike = group.strikes[at] / PRICE_SCALE
            is_call = strike >= forward
            mid, row = (call_mid, call) if is_call else (put_mid, put)
            if mid is None:
                continue
            vol = implied_vol(mid, forward, strike, inputs.years, config.rate, is_call)
            if vol is None:
                rejected += 1
                continue
            delta = forward_delta(forward, strike, vol, inputs.years, is_call)
            points.append(SmilePoint(strike, vol, delta, is_call))
            oldest_used = min(oldest_used, state.quote_ts[row])
    call25 = wing_vol(points, is_call=True)
    put25 = wing_vol(points, is_call=False)
    atm = None if forward is None else atm_vol(points, forward)
    used_any = points or inputs.parity_strikes
    return ExpiryFrame(
        expiration=group.expiration,
        underlying_symbol=inputs.underlying_symbol,
        time_to_expiry=round(inputs.years, TIME_DIGITS),
        forward=None if inputs.parity is None else round(inputs.parity * PRICE_SCALE),
        forward_strikes=inputs.parity_strikes,
        atm_iv=_vol(atm),
        call25_iv=_vol(call25),
        put25_iv=_vol(put25),
        rr25=None
        if call25 is None or put25 is None
        else round((call25 - put25) * 100, FIXED_DIGITS),
        iv_strikes=len(points),
        fresh_strikes=fresh_strikes,
        max_quote_age_ms=(ts - oldest_used) // MS if used_any else None,
        iv_rejected=rejected,
        underlying_mid=inputs.underlying_mid,
    )


def _vol(value: float | None) -> float | None:
    return None if value is None else round(value, VOL_DIGITS)
