"""Aggressor side of one option print from the NBBO in force just before it.

OPRA carries no aggressor (every Databento OPRA trade has side 'N'), so the side is inferred:

- at or outside the quote: the quote rule (above ask AA / at ask A -> buy; at bid B / below
  bid BB -> sell); Savickas & Wilson measured 83 % on options, outside the quote is surer;
- strictly inside the quote, off the midpoint: the quote rule on the nearer side (above the
  midpoint -> buy); the price itself says which side paid up, so it goes first;
- exactly at the midpoint, where the price says nothing: the trade-size rule of Grauer,
  Schuster & Uhrig-Homburg (trade size equal to the bid size -> buy, to the ask size ->
  sell: a customer limit order resting at that quote was filled), then their depth rule
  (larger ask size -> buy, larger bid size -> sell), then the tick rule; reported with low
  confidence;
- without a usable quote (stale, missing, crossed): the tick rule only (59 % in the study).

Confidences are the published accuracies used as priors, not a calibration of this engine.
"""

from __future__ import annotations

from typing import Final

from schemas.events import Bucket, Side

CONF_OUTSIDE: Final = 0.9
CONF_AT_QUOTE: Final = 0.83
CONF_INSIDE: Final = 0.65
CONF_TRADE_SIZE: Final = 0.6
CONF_DEPTH: Final = 0.55
CONF_TICK: Final = 0.55
CONF_TICK_MID: Final = 0.5

Inference = tuple[Side, Bucket, str, float]

# Results are shared constants: the hot path builds no tuple per print.
_UNKNOWN_MID: Final[Inference] = ("unknown", "M", "none", 0.0)
_UNKNOWN_NA: Final[Inference] = ("unknown", "NA", "none", 0.0)
_BUY_NA_TICK: Final[Inference] = ("buy", "NA", "tick", CONF_TICK)
_SELL_NA_TICK: Final[Inference] = ("sell", "NA", "tick", CONF_TICK)
_BUY_AA_QUOTE: Final[Inference] = ("buy", "AA", "quote", CONF_OUTSIDE)
_SELL_BB_QUOTE: Final[Inference] = ("sell", "BB", "quote", CONF_OUTSIDE)
_BUY_A_QUOTE: Final[Inference] = ("buy", "A", "quote", CONF_AT_QUOTE)
_SELL_B_QUOTE: Final[Inference] = ("sell", "B", "quote", CONF_AT_QUOTE)
_BUY_M_QUOTE_MID: Final[Inference] = ("buy", "M", "quote_mid", CONF_INSIDE)
_SELL_M_QUOTE_MID: Final[Inference] = ("sell", "M", "quote_mid", CONF_INSIDE)
_BUY_M_TRADE_SIZE: Final[Inference] = ("buy", "M", "trade_size", CONF_TRADE_SIZE)
_SELL_M_TRADE_SIZE: Final[Inference] = ("sell", "M", "trade_size", CONF_TRADE_SIZE)
_BUY_M_DEPTH: Final[Inference] = ("buy", "M", "depth", CONF_DEPTH)
_SELL_M_DEPTH: Final[Inference] = ("sell", "M", "depth", CONF_DEPTH)
_BUY_M_TICK: Final[Inference] = ("buy", "M", "tick", CONF_TICK_MID)
_SELL_M_TICK: Final[Inference] = ("sell", "M", "tick", CONF_TICK_MID)


def infer_side(
    price: int,
    size: int,
    bid: int | None,
    ask: int | None,
    bid_sz: int | None,
    ask_sz: int | None,
    tick: int,
) -> Inference:
    """(side, bucket, rule, confidence) of one print; `bid`/`ask` None when no usable quote.

    `tick` is the print's tick direction (+1, -1, 0) from `tick_direction`.
    """
    if bid is None or ask is None:
        if tick > 0:
            return _BUY_NA_TICK
        if tick < 0:
            return _SELL_NA_TICK
        return _UNKNOWN_NA
    if price > ask:
        return _BUY_AA_QUOTE
    if price < bid:
        return _SELL_BB_QUOTE
    if price == ask and price != bid:
        return _BUY_A_QUOTE
    if price == bid and price != ask:
        return _SELL_B_QUOTE
    # Strictly inside the spread (or a locked market at the print's price).
    twice = 2 * price
    if twice > bid + ask:
        return _BUY_M_QUOTE_MID
    if twice < bid + ask:
        return _SELL_M_QUOTE_MID
    if bid_sz is not None and ask_sz is not None and bid_sz != ask_sz:
        if size == bid_sz:
            return _BUY_M_TRADE_SIZE
        if size == ask_sz:
            return _SELL_M_TRADE_SIZE
        if ask_sz > bid_sz:
            return _BUY_M_DEPTH
        if bid_sz > ask_sz:
            return _SELL_M_DEPTH
    if tick > 0:
        return _BUY_M_TICK
    if tick < 0:
        return _SELL_M_TICK
    return _UNKNOWN_MID


# Every result, in the order of the kernel's inference codes (`compute.flow.layout.INF_*`).
INFERENCES: Final[tuple[Inference, ...]] = (
    _UNKNOWN_MID, _UNKNOWN_NA, _BUY_NA_TICK, _SELL_NA_TICK, _BUY_AA_QUOTE, _SELL_BB_QUOTE,
    _BUY_A_QUOTE, _SELL_B_QUOTE, _BUY_M_QUOTE_MID, _SELL_M_QUOTE_MID, _BUY_M_TRADE_SIZE,
    _SELL_M_TRADE_SIZE, _BUY_M_DEPTH, _SELL_M_DEPTH, _BUY_M_TICK, _SELL_M_TICK,
)  # fmt: skip
