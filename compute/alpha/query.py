"""Reading a state without changing it: every usable option quote of a root with its
Black-76 vol, as the frames solve them (`chain`), in and out of the money."""

from __future__ import annotations

import msgspec

from compute.alpha.black76 import forward_delta, implied_vol
from compute.alpha.chain import fresh_mid, oldest_fresh, pricing
from compute.alpha.config import MS
from compute.alpha.state import CALL, AlphaState
from schemas.events import PRICE_SCALE


class OptionVol(msgspec.Struct, frozen=True, kw_only=True):
    """One option's quote and vol at `ts`: `mid` in price units, `forward` the forward it
    was solved on, `time_to_expiry` in years; `vol` and `delta` are None where the mid lay
    outside the no-arbitrage bounds."""

    instrument_id: int
    symbol: str
    expiration: int
    strike: int
    is_call: bool
    mid: float
    quote_age_ms: int
    forward: float
    time_to_expiry: float
    vol: float | None
    delta: float | None


def option_vols(state: AlphaState, root: str, ts: int) -> list[OptionVol]:
    """The root's live expiries' usable quotes at `ts` (fresh, two-sided, uncrossed), by
    expiration, strike, put before call; an expiry without a forward gives none."""
    config = state.config
    oldest = oldest_fresh(state, ts)
    found: list[OptionVol] = []
    groups = sorted(
        (group.expiration, group.asset, index)
        for index, group in enumerate(state.groups)
        if state.future_root.get(group.underlying_id) == root and group.expiration > ts
    )
    for _, _, index in groups:
        group = state.groups[index]
        inputs = pricing(state, group, ts)
        if inputs.forward is None:
            continue
        for at, strike in enumerate(group.strikes):
            for row in (group.puts[at], group.calls[at]):
                mid = fresh_mid(state, row, oldest)
                if mid is None:
                    continue
                is_call = state.kind[row] == CALL
                k = strike / PRICE_SCALE
                vol = implied_vol(mid, inputs.forward, k, inputs.years, config.rate, is_call)
                found.append(
                    OptionVol(
                        instrument_id=state.instrument_id[row],
                        symbol=state.symbol[row],
                        expiration=group.expiration,
                        strike=strike,
                        is_call=is_call,
                        mid=mid,
                        quote_age_ms=(ts - state.quote_ts[row]) // MS,
                        forward=inputs.forward,
                        time_to_expiry=inputs.years,
                        vol=vol,
                        delta=None
                        if vol is None
                        else forward_delta(inputs.forward, k, vol, inputs.years, is_call),
                    )
                )
    return found
