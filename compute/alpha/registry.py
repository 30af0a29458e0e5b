"""Definitions into rows: a future of a served root joins its root, an option its expiry
group's strike ladder. A redefinition (same id, new terms) moves the row; an id
redefined as something the engine does not keep is forgotten."""

from __future__ import annotations

from bisect import bisect_left

from compute.alpha.state import (
    CALL,
    FUTURE,
    KINDS,
    NO_ROW,
    NULL,
    AlphaState,
    ExpiryGroup,
    bump,
    group_key,
)
from schemas.cme import CmeInstrument


def define(state: AlphaState, event: CmeInstrument) -> None:
    """File one definition (see the module docstring); odd ones are counted, not kept."""
    kind = KINDS[event.instrument_class]
    iid = event.instrument_id
    if kind == FUTURE:
        if event.asset not in state.roots:
            _forget(state, iid)
            state.other_futures[iid] = event.asset
            bump(state, "unserved_future")
            return
        state.other_futures.pop(iid, None)
        row = _row(state, event, kind, NULL, NO_ROW)
        state.future_root[iid] = event.asset
        state.roots[event.asset].futures.append(row)
        return
    strike, underlying = event.strike_price, event.underlying_id
    if strike is None or strike <= 0 or underlying is None:
        _forget(state, iid)
        bump(state, "bad_option_definition")
        return
    if underlying in state.other_futures:
        _forget(state, iid)
        bump(state, "unserved_option")
        return
    key = group_key(underlying, event.expiration, event.asset)
    group = state.group_of.get(key)
    if group is None:
        group = state.group_of[key] = len(state.groups)
        state.groups.append(ExpiryGroup(underlying, event.expiration, event.asset))
    row = _row(state, event, kind, strike, group)
    _file_option(state, state.groups[group], row, strike, kind)


def _row(state: AlphaState, event: CmeInstrument, kind: int, strike: int, group: int) -> int:
    """The row of `event`'s instrument with its terms set: a new row, or its old one taken
    out of wherever it was filed."""
    row = state.rows.get(event.instrument_id)
    if row is None:
        row = state.rows[event.instrument_id] = len(state.instrument_id)
        state.instrument_id.append(event.instrument_id)
        state.symbol.append(event.symbol)
        state.kind.append(kind)
        state.expiration.append(event.expiration)
        state.strike.append(strike)
        state.group.append(group)
        for column in (state.bid_px, state.ask_px, state.quote_ts):
            column.append(NULL)
        for column in (state.bid_sz, state.ask_sz, state.depth_bid5, state.depth_ask5):
            column.append(0)
        state.depth_levels.append(0)
        state.sampled.append(False)
        return row
    _unfile(state, row)
    state.symbol[row] = event.symbol
    state.kind[row] = kind
    state.expiration[row] = event.expiration
    state.strike[row] = strike
    state.group[row] = group
    return row


def _file_option(state: AlphaState, group: ExpiryGroup, row: int, strike: int, kind: int) -> None:
    at = bisect_left(group.strikes, strike)
    if at == len(group.strikes) or group.strikes[at] != strike:
        group.strikes.insert(at, strike)
        group.calls.insert(at, NO_ROW)
        group.puts.insert(at, NO_ROW)
    side = group.calls if kind == CALL else group.puts
    if side[at] != NO_ROW:
        bump(state, "duplicate_contract")
    side[at] = row


def _unfile(state: AlphaState, row: int) -> None:
    """Take `row` out of its root's futures or its group's ladder (before a redefinition)."""
    iid = state.instrument_id[row]
    if state.kind[row] == FUTURE:
        root = state.future_root.pop(iid, None)
        if root is not None:
            state.roots[root].futures.remove(row)
        state.trades.pop(row, None)
        return
    group = state.groups[state.group[row]]
    at = bisect_left(group.strikes, state.strike[row])
    if at == len(group.strikes) or group.strikes[at] != state.strike[row]:
        return
    for side in (group.calls, group.puts):
        if side[at] == row:
            side[at] = NO_ROW
    if group.calls[at] == NO_ROW and group.puts[at] == NO_ROW:
        del group.strikes[at], group.calls[at], group.puts[at]


def _forget(state: AlphaState, iid: int) -> None:
    row = state.rows.pop(iid, None)
    if row is not None:
        _unfile(state, row)
