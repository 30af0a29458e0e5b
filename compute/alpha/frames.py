"""The frame of each served root at one boundary, from the state (whose only change here is
the skew EWMA and the pruning of trades older than the flow window).

- front future: the nearest-expiry future of the root, not yet expired, with a usable
  quote (two-sided, uncrossed, fresh: `chain`); `cme_fwd_mid`, `signed_flow_10`,
  `trades_10` and `imb_5` are its own;
- expiries: the root's option expiries not yet expired, nearest first, at most
  `max_expiries`; `atm_iv` and `rr25` are the front expiry's, `iv_term_slope` the second's
  ATM vol minus the front's;
- health, judged on the chain as a whole: `stale_chain` when the root has no live expiry
  (`no_chain`), the front expiry has no forward (`no_forward`), fewer than
  `min_fresh_strikes` strikes of its window have a usable quote (`thin`), or no option quote
  of the root changed for longer than `max_quiet_ms` (`quiet`); the reasons are joined;
- `skew_signal`: moved only by healthy frames with an rr25.
"""

from __future__ import annotations

import math

from compute.alpha.chain import expiry_frame, oldest_fresh, usable_mid
from compute.alpha.config import MS
from compute.alpha.state import NULL, AlphaState, ExpiryGroup, RootState
from schemas.cme import AlphaFrame, ExpiryFrame, Health
from schemas.events import FIXED_DIGITS
from schemas.ids import make_id

FLOW_WINDOW_NS = 10_000_000_000


def build_frames(state: AlphaState, ts: int) -> list[AlphaFrame]:
    """One frame per served root (config order) at boundary `ts`."""
    live: dict[str, list[tuple[int, int, str, int]]] = {root: [] for root in state.roots}
    for index, group in enumerate(state.groups):
        root = state.future_root.get(group.underlying_id)
        if root is None or group.expiration <= ts:
            continue
        underlying = state.rows[group.underlying_id]
        live[root].append((group.expiration, state.expiration[underlying], group.asset, index))
    return [
        _frame(state, root, [state.groups[g[3]] for g in sorted(live[root])], ts)
        for root in state.config.roots
    ]


def _front_future(state: AlphaState, root: RootState, ts: int) -> int | None:
    best: tuple[int, int, int] | None = None
    oldest = oldest_fresh(state, ts)
    for row in root.futures:
        expiration = state.expiration[row]
        if expiration <= ts or usable_mid(state, row, oldest) is None:
            continue
        key = (expiration, state.instrument_id[row], row)
        if best is None or key < best:
            best = key
    return None if best is None else best[2]


def _flow(state: AlphaState, root: RootState, front: int | None, ts: int) -> tuple[int, int]:
    since = ts - FLOW_WINDOW_NS
    for row in root.futures:
        trades = state.trades.get(row)
        if trades and trades[0].ts < since:
            state.trades[row] = [trade for trade in trades if trade.ts >= since]
    if front is None:
        return 0, 0
    window = state.trades.get(front, [])
    return sum(trade.signed_size for trade in window), len(window)


def _imbalance(state: AlphaState, front: int | None) -> tuple[float | None, int]:
    if front is None:
        return None, 0
    bids, asks = state.depth_bid5[front], state.depth_ask5[front]
    total = bids + asks
    levels = state.depth_levels[front]
    return (None if total == 0 else round((bids - asks) / total, FIXED_DIGITS)), levels


def _health(
    state: AlphaState, groups: list[ExpiryGroup], expiries: list[ExpiryFrame], ts: int
) -> list[str]:
    config = state.config
    if not expiries:
        return ["no_chain: no live option expiry"]
    reasons: list[str] = []
    front = expiries[0]
    if front.forward is None and front.underlying_mid is None:
        reasons.append(
            f"no_forward: no future quote and no call-put pair for the front expiry "
            f"({front.underlying_symbol} options expiring {front.expiration})"
        )
    elif front.fresh_strikes < config.min_fresh_strikes:
        reasons.append(
            f"thin: {front.fresh_strikes} fresh two-sided strikes < {config.min_fresh_strikes}"
        )
    last_change = max(group.last_change for group in groups)
    if last_change == NULL:
        reasons.append("quiet: no option quote yet")
    elif ts - last_change > config.max_quiet_ms * MS:
        reasons.append(
            f"quiet: no option quote change for {(ts - last_change) // MS} ms "
            f"> {config.max_quiet_ms} ms"
        )
    return reasons


def _skew(state: AlphaState, root: RootState, rr25: float | None, ts: int) -> None:
    if rr25 is None:
        return
    value = math.tanh(rr25 / state.config.skew_k)
    if root.skew is None:
        root.skew = value
    else:
        keep = 0.5 ** ((ts - root.skew_ts) / (state.config.skew_half_life_ms * MS))
        root.skew = keep * root.skew + (1.0 - keep) * value
    root.skew_ts = ts


def _frame(state: AlphaState, name: str, groups: list[ExpiryGroup], ts: int) -> AlphaFrame:
    config = state.config
    root = state.roots[name]
    expiries = [expiry_frame(state, group, ts) for group in groups[: config.max_expiries]]
    reasons = _health(state, groups, expiries, ts)
    health: Health = "stale_chain" if reasons else "ok"
    front_expiry = expiries[0] if expiries else None
    rr25 = None if front_expiry is None else front_expiry.rr25
    atm = None if front_expiry is None else front_expiry.atm_iv
    second_atm = expiries[1].atm_iv if len(expiries) > 1 else None
    if health == "ok":
        _skew(state, root, rr25, ts)
    front = _front_future(state, root, ts)
    flow, trades = _flow(state, root, front, ts)
    imbalance, levels = _imbalance(state, front)
    funding_symbol = config.funding_symbols.get(name)
    return AlphaFrame(
        ts_recv=ts,
        run_id=state.run_id,
        frame_id=make_id("alpha_frame", state.run_id, name, ts),
        root=name,
        front_symbol="" if front is None else state.symbol[front],
        cme_fwd_mid=None if front is None else usable_mid(state, front, oldest_fresh(state, ts)),
        atm_iv=atm,
        rr25=rr25,
        iv_term_slope=None
        if atm is None or second_atm is None
        else round(second_atm - atm, FIXED_DIGITS + 2),
        skew_signal=None if root.skew is None else round(root.skew, FIXED_DIGITS),
        signed_flow_10=flow,
        trades_10=trades,
        imb_5=imbalance,
        book_levels=levels,
        funding=None if funding_symbol is None else state.funding.get(funding_symbol),
        health=health,
        health_reason="; ".join(reasons),
        expiries=expiries,
    )
