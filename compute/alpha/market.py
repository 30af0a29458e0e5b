"""Market data into rows: quotes, futures' depth and trades, funding. Each is a few writes
into its instrument's row at the engine's clock `now`."""

from __future__ import annotations

from compute.alpha.state import FUTURE, NO_ROW, NULL, AlphaState, Trade, bump
from schemas.book import Mbp10Event
from schemas.cme import CmeQuote, CmeTrade
from schemas.crypto import MarkPrice

DEPTH_LEVELS = 5
_SIGN = {"B": 1, "A": -1}  # Databento's aggressor: B bought at the offer, A sold at the bid


def set_quote(state: AlphaState, event: CmeQuote, now: int) -> None:
    row = state.rows.get(event.instrument_id)
    if row is None:
        bump(state, "unknown_instrument:quote")
        return
    bid = NULL if event.bid_px is None else event.bid_px
    ask = NULL if event.ask_px is None else event.ask_px
    _write_top(state, row, bid, ask, event.bid_sz, event.ask_sz, now)
    state.sampled[row] = event.sampled


def _write_top(
    state: AlphaState, row: int, bid: int, ask: int, bid_sz: int, ask_sz: int, now: int
) -> None:
    if (
        bid != state.bid_px[row]
        or ask != state.ask_px[row]
        or bid_sz != state.bid_sz[row]
        or ask_sz != state.ask_sz[row]
    ):
        state.bid_px[row] = bid
        state.ask_px[row] = ask
        state.bid_sz[row] = bid_sz
        state.ask_sz[row] = ask_sz
        group = state.group[row]
        if group != NO_ROW:
            state.groups[group].last_change = now
    state.quote_ts[row] = now


def future_row(state: AlphaState, instrument_id: int) -> int | None:
    """The row of a served future, else None."""
    row = state.rows.get(instrument_id)
    if row is None or state.kind[row] != FUTURE:
        return None
    return row


def apply_depth(state: AlphaState, row: int, event: Mbp10Event, now: int) -> None:
    """The futures' book as its latest MBP-10 record gives it: top-5 sizes and the top."""
    if not event.records:
        bump(state, "empty_mbp10")
        return
    last = event.records[-1]
    bids, asks = last.bids[:DEPTH_LEVELS], last.asks[:DEPTH_LEVELS]
    state.depth_bid5[row] = sum(max(level.size, 0) for level in bids)
    state.depth_ask5[row] = sum(max(level.size, 0) for level in asks)
    state.depth_levels[row] = len(bids) + len(asks)
    bid, bid_sz = (bids[0].price, bids[0].size) if bids else (NULL, 0)
    ask, ask_sz = (asks[0].price, asks[0].size) if asks else (NULL, 0)
    _write_top(state, row, bid, ask, bid_sz, ask_sz, now)
    state.sampled[row] = False


def add_trade(state: AlphaState, event: CmeTrade, now: int) -> None:
    row = state.rows.get(event.instrument_id)
    if row is None:
        bump(state, "unknown_instrument:trade")
    elif state.kind[row] != FUTURE:
        bump(state, "option_trades")
    elif event.size <= 0:
        bump(state, "bad_trade_size")
    else:
        signed = _SIGN.get(event.side, 0) * event.size
        state.trades.setdefault(row, []).append(Trade(now, signed))


def set_funding(state: AlphaState, event: MarkPrice) -> None:
    if event.funding_rate is None:
        bump(state, "mark_price_without_funding")
    else:
        state.funding[event.symbol] = event.funding_rate
