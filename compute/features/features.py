"""One symbol's features from its state (formatting only: the state is not changed)."""

from __future__ import annotations

import math

from compute.features.config import RETURN_HORIZONS_NS, FeaturesConfig
from compute.features.state import MidRow, SymbolState
from compute.features.window import notional
from schemas.crypto import CryptoFeatures
from schemas.events import FIXED_DIGITS


def _ratio(numerator: int, denominator: int, scale: int = 1) -> float | None:
    if denominator == 0:
        return None
    return round(numerator * scale / denominator, FIXED_DIGITS)


def _mid_at(mids: list[MidRow], ts: int) -> int | None:
    """The mid (x2) in force at `ts`: the last sample at or before it."""
    found = None
    for row in mids:
        if row.ts > ts:
            break
        found = row.mid_x2
    return found


def _realized_vol_bps(mids: list[MidRow], start: int) -> float | None:
    """Square root of the summed squared mid-to-mid returns inside the window, in bps."""
    inside = [row.mid_x2 for row in mids if row.ts > start]
    if len(inside) < 2:
        return None
    total = 0.0
    for before, after in zip(inside, inside[1:], strict=False):
        total += ((after - before) / before) ** 2
    return round(math.sqrt(total) * 10_000, FIXED_DIGITS)


def _imbalance(bid_size: int, ask_size: int) -> float | None:
    return _ratio(bid_size - ask_size, bid_size + ask_size)


def _book_imbalance(symbol: SymbolState, levels: int) -> float | None:
    if not symbol.has_book or not symbol.bids or not symbol.asks:
        return None
    bids = sum(symbol.bids[p] for p in sorted(symbol.bids, reverse=True)[:levels])
    asks = sum(symbol.asks[p] for p in sorted(symbol.asks)[:levels])
    return _imbalance(bids, asks)


def compute_features(
    symbol_name: str, symbol: SymbolState, now: int, config: FeaturesConfig, run_id: str
) -> CryptoFeatures:
    mid_x2 = None
    spread_bps = None
    if symbol.bid_px is not None and symbol.ask_px is not None:
        mid_x2 = symbol.bid_px + symbol.ask_px
        spread_bps = _ratio((symbol.ask_px - symbol.bid_px) * 2, mid_x2, 10_000)
    returns: dict[str, float | None] = {}
    for name, horizon in RETURN_HORIZONS_NS:
        then = _mid_at(symbol.mids, now - horizon)
        now_mid = _mid_at(symbol.mids, now)
        returns[name] = (
            None if then is None or now_mid is None else _ratio(now_mid - then, then, 10_000)
        )
    count = len(symbol.trades) - symbol.trade_start
    return CryptoFeatures(
        now,
        run_id,
        symbol_name,
        config.window_ns,
        None if mid_x2 is None else mid_x2 // 2,
        spread_bps,
        notional(symbol) // symbol.volume if symbol.volume else None,
        returns["ret_1s_bps"],
        returns["ret_5s_bps"],
        returns["ret_30s_bps"],
        returns["ret_60s_bps"],
        _realized_vol_bps(symbol.mids, now - config.window_ns),
        count,
        symbol.volume,
        symbol.buy_volume,
        symbol.sell_volume,
        _imbalance(symbol.buy_volume, symbol.sell_volume),
        _ratio(symbol.latency_ns_sum, count * 1_000_000) if count else None,
        _book_imbalance(symbol, config.book_levels),
        _imbalance(symbol.bid_sz, symbol.ask_sz) if mid_x2 is not None else None,
        symbol.funding_rate,
    )
