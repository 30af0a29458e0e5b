"""How each input event changes one symbol's state (all exact integer arithmetic)."""

from __future__ import annotations

from compute.features.state import MidRow, SymbolState, TradeRow
from schemas.crypto import BookUpdate, CryptoQuote, CryptoTrade, MarkPrice


def add_trade(symbol: SymbolState, trade: CryptoTrade) -> None:
    buy = trade.side == "buy"
    latency = trade.ts_recv - trade.ts_event
    symbol.trades.append(TradeRow(trade.ts_recv, trade.price, trade.size, buy, latency))
    symbol.volume += trade.size
    _add_notional(symbol, trade.price * trade.size)
    if buy:
        symbol.buy_volume += trade.size
    else:
        symbol.sell_volume += trade.size
    symbol.latency_ns_sum += latency


LIMB = 1 << 62


def _add_notional(symbol: SymbolState, amount: int) -> None:
    carry, symbol.notional_lo = divmod(symbol.notional_lo + amount, LIMB)
    symbol.notional_hi += carry


def notional(symbol: SymbolState) -> int:
    """The exact sum of price * size over the window's trades."""
    return symbol.notional_hi * LIMB + symbol.notional_lo


def set_quote(symbol: SymbolState, quote: CryptoQuote) -> None:
    _set_top(symbol, quote.ts_recv, quote.bid_px, quote.bid_sz, quote.ask_px, quote.ask_sz)


def set_mark(symbol: SymbolState, mark: MarkPrice) -> None:
    if mark.funding_rate is not None:
        symbol.funding_rate = mark.funding_rate


def apply_book(symbol: SymbolState, update: BookUpdate) -> None:
    """A snapshot replaces the book, a diff sets levels (size 0 removes); the best levels
    become the top of book."""
    if update.snapshot:
        symbol.bids = {}
        symbol.asks = {}
    symbol.has_book = True
    for side, prices, sizes in (
        (symbol.bids, update.bid_px, update.bid_sz),
        (symbol.asks, update.ask_px, update.ask_sz),
    ):
        for price, size in zip(prices, sizes, strict=True):
            if size:
                side[price] = size
            else:
                side.pop(price, None)
    if symbol.bids and symbol.asks:
        bid = max(symbol.bids)
        ask = min(symbol.asks)
        _set_top(symbol, update.ts_recv, bid, symbol.bids[bid], ask, symbol.asks[ask])


def _set_top(symbol: SymbolState, ts: int, bid: int, bid_sz: int, ask: int, ask_sz: int) -> None:
    symbol.bid_px, symbol.bid_sz, symbol.ask_px, symbol.ask_sz = bid, bid_sz, ask, ask_sz
    mid_x2 = bid + ask
    if not symbol.mids or symbol.mids[-1].mid_x2 != mid_x2:
        symbol.mids.append(MidRow(ts, mid_x2))


def expire(symbol: SymbolState, now: int, window_ns: int) -> None:
    """Drop trades at or before `now - window_ns` and mids older than the one in force then."""
    start = now - window_ns
    trades = symbol.trades
    index = symbol.trade_start
    while index < len(trades) and trades[index].ts <= start:
        row = trades[index]
        symbol.volume -= row.size
        _add_notional(symbol, -row.price * row.size)
        if row.buy:
            symbol.buy_volume -= row.size
        else:
            symbol.sell_volume -= row.size
        symbol.latency_ns_sum -= row.latency_ns
        index += 1
    if index * 2 >= len(trades) and index:
        del trades[:index]
        index = 0
    symbol.trade_start = index
    mids = symbol.mids
    keep = 0
    while keep + 1 < len(mids) and mids[keep + 1].ts <= start:
        keep += 1
    if keep:
        del mids[:keep]
