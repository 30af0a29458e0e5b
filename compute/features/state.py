"""The features engine's whole memory between batches, as plain msgspec data.

Per symbol: the trades of the window (a list read from `trade_start`, compacted when half
of it has expired) with exact running sums, the mid-price samples (each change of the best
bid or ask) back to one sample at or before the window's start, the best bid and offer, the
depth book when the symbol has one, the funding rate, and the times of the last emission
and signals. `encode_state` / `decode_state` checkpoint it exactly.
"""

from __future__ import annotations

import msgspec

from compute.features.config import FeaturesConfig


class TradeRow(msgspec.Struct, array_like=True, gc=False):
    ts: int
    price: int
    size: int
    buy: bool
    latency_ns: int


class MidRow(msgspec.Struct, array_like=True, gc=False):
    ts: int
    mid_x2: int  # bid + ask: the mid without rounding


class SymbolState(msgspec.Struct, gc=False):
    trades: list[TradeRow] = msgspec.field(default_factory=list)
    trade_start: int = 0
    volume: int = 0
    # sum of price * size (1e-9 x 1e-8) = notional_hi * 2**62 + notional_lo, 0 <= lo < 2**62:
    # exact, and within the 64-bit integers a checkpoint can hold
    notional_hi: int = 0
    notional_lo: int = 0
    buy_volume: int = 0
    sell_volume: int = 0
    latency_ns_sum: int = 0
    mids: list[MidRow] = msgspec.field(default_factory=list)
    bid_px: int | None = None
    bid_sz: int = 0
    ask_px: int | None = None
    ask_sz: int = 0
    bids: dict[int, int] = msgspec.field(default_factory=dict)
    asks: dict[int, int] = msgspec.field(default_factory=dict)
    has_book: bool = False
    funding_rate: int | None = None
    last_ts: int = 0
    last_emit_ts: int | None = None
    last_long_ts: int | None = None
    last_short_ts: int | None = None


class FeaturesState(msgspec.Struct, gc=False):
    config: FeaturesConfig
    run_id: str
    symbols: dict[str, SymbolState] = msgspec.field(default_factory=dict)


def initial_state(config: FeaturesConfig, run_id: str) -> FeaturesState:
    return FeaturesState(config=config, run_id=run_id)


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(FeaturesState)


def encode_state(state: FeaturesState) -> bytes:
    return _encoder.encode(state)


def decode_state(data: bytes) -> FeaturesState:
    return _decoder.decode(data)
