"""The alpha engine's whole memory between batches, as columns of plain msgspec data.

Instruments live in rows of parallel columns, one row per instrument of a served root (or
an option whose future is not yet defined), found through `rows` (instrument id -> row).
A quote is a handful of list writes into its row. Options are also filed in expiry groups
(one per underlying future, expiration and product), each holding its strikes in order
with the call and put row at each, so a frame reads a window of strikes without a scan.

`encode_state` / `decode_state` checkpoint it exactly (floats included), and a restored
engine continues byte for byte.
"""

from __future__ import annotations

import msgspec

from compute.alpha.config import AlphaConfig

NULL = -(2**63)  # an undefined price or time in an int column
NO_ROW = -1

FUTURE, CALL, PUT = 0, 1, 2
KINDS = {"F": FUTURE, "C": CALL, "P": PUT}


class ExpiryGroup(msgspec.Struct, array_like=True, gc=False):
    """The options of one underlying future, expiration and product.

    `calls[i]` / `puts[i]` are the rows of the options at `strikes[i]` (ascending), or
    `NO_ROW`; `last_change` is when any of their quotes last changed (NULL: never).
    """

    underlying_id: int
    expiration: int
    asset: str
    strikes: list[int] = msgspec.field(default_factory=list)
    calls: list[int] = msgspec.field(default_factory=list)
    puts: list[int] = msgspec.field(default_factory=list)
    last_change: int = NULL


class Trade(msgspec.Struct, array_like=True, gc=False):
    ts: int
    signed_size: int  # + bought by an aggressor, - sold, 0 no aggressor


class RootState(msgspec.Struct, gc=False):
    """Per served root: its futures' rows, and the skew EWMA (None before its first
    healthy frame with an rr25; `skew_ts` is that frame's time)."""

    futures: list[int] = msgspec.field(default_factory=list)
    skew: float | None = None
    skew_ts: int = NULL


class AlphaState(msgspec.Struct, gc=False):
    """Rows are indexed by the columns below; `next_emit` is the next frame boundary (NULL
    before the first event), `clock` the latest event time seen."""

    config: AlphaConfig
    run_id: str
    rows: dict[int, int] = msgspec.field(default_factory=dict)
    # one entry per row
    instrument_id: list[int] = msgspec.field(default_factory=list)
    symbol: list[str] = msgspec.field(default_factory=list)
    kind: list[int] = msgspec.field(default_factory=list)
    expiration: list[int] = msgspec.field(default_factory=list)
    strike: list[int] = msgspec.field(default_factory=list)
    group: list[int] = msgspec.field(default_factory=list)
    bid_px: list[int] = msgspec.field(default_factory=list)
    ask_px: list[int] = msgspec.field(default_factory=list)
    bid_sz: list[int] = msgspec.field(default_factory=list)
    ask_sz: list[int] = msgspec.field(default_factory=list)
    quote_ts: list[int] = msgspec.field(default_factory=list)
    sampled: list[bool] = msgspec.field(default_factory=list)  # the last quote was a sample
    # futures only (0 on options): top-5 depth of the latest mbp-10 record
    depth_bid5: list[int] = msgspec.field(default_factory=list)
    depth_ask5: list[int] = msgspec.field(default_factory=list)
    depth_levels: list[int] = msgspec.field(default_factory=list)
    # futures' trades of the flow window, by row
    trades: dict[int, list[Trade]] = msgspec.field(default_factory=dict)
    groups: list[ExpiryGroup] = msgspec.field(default_factory=list)
    group_of: dict[str, int] = msgspec.field(default_factory=dict)
    # futures of products not served: options on them are not kept
    other_futures: dict[int, str] = msgspec.field(default_factory=dict)
    # future instrument id -> its root, for served futures
    future_root: dict[int, str] = msgspec.field(default_factory=dict)
    roots: dict[str, RootState] = msgspec.field(default_factory=dict)
    funding: dict[str, int] = msgspec.field(default_factory=dict)
    next_emit: int = NULL
    clock: int = NULL
    counters: dict[str, int] = msgspec.field(default_factory=dict)


def group_key(underlying_id: int, expiration: int, asset: str) -> str:
    return f"{underlying_id}|{expiration}|{asset}"


def bump(state: AlphaState, name: str, by: int = 1) -> None:
    """Add to one of the engine's counters."""
    state.counters[name] = state.counters.get(name, 0) + by


def initial_state(config: AlphaConfig, run_id: str) -> AlphaState:
    """An engine that has seen nothing."""
    return AlphaState(config, run_id, roots={root: RootState() for root in config.roots})


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(AlphaState)


def encode_state(state: AlphaState) -> bytes:
    """The state as msgpack bytes (what a checkpoint stores)."""
    return _encoder.encode(state)


def decode_state(data: bytes) -> AlphaState:
    """A state back from `encode_state` bytes."""
    return _decoder.decode(data)
