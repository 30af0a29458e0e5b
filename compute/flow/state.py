"""The engine's whole memory between batches, as plain msgspec data.

Everything the engine knows lives here (per-contract NBBO and volume, open packets, rolling
baselines, dark-pool windows), so `encode_state` / `decode_state` checkpoint it exactly and a
restored engine continues byte for byte. Open items are held in dicts keyed by a serial
number that grows with event time: windows have a fixed length, so the oldest serial is
always the next to close, and closing is a cursor walk instead of a heap. The structs hold
no reference cycles, so the cycle collector does not track them (`gc=False`).
"""

from __future__ import annotations

import msgspec

from compute.flow.config import EngineConfig
from schemas.events import MemberPrint, QuoteRef

NO_DEADLINE = 2**63 - 1
UNLIMITED = 2**63 - 1


class ContractState(msgspec.Struct, array_like=True, gc=False):
    """One option contract: static terms, the last two NBBOs, tick state and day volume.

    Two quotes are kept because the join wants the quote strictly before a print's
    `ts_recv`: a quote sharing the print's timestamp (canonical order puts it first) is
    skipped in favour of the one before it.
    """

    symbol: str
    underlying: str
    right: str
    strike_price: int
    expiration_date: int
    multiplier: int
    q_ts: int = -1
    q_bid: int | None = None
    q_ask: int | None = None
    q_bid_sz: int = 0
    q_ask_sz: int = 0
    q_sampled: bool = False
    p_ts: int = -1
    p_bid: int | None = None
    p_ask: int | None = None
    p_bid_sz: int = 0
    p_ask_sz: int = 0
    p_sampled: bool = False
    last_price: int = 0
    tick_dir: int = 0
    open_interest: int | None = None
    volume_day: int = 0
    day_volume: int = 0
    unusual_day: int = 0
    # daily volumes of the sessions before `volume_day` (oldest first, at most
    # `unusual_volume_days`), their sum, and the day volume above which today is unusual
    past_volumes: list[int] = msgspec.field(default_factory=list)
    past_volume_total: int = 0
    avg_volume_limit: int = UNLIMITED


class OpenPacket(msgspec.Struct, array_like=True, gc=False):
    """Prints of one (contract, side) inside a window capped from the first print."""

    serial: int
    key: int
    instrument_id: int
    underlying: str
    side: str
    first_ts_recv: int
    first_ts_event: int
    venue: int
    deadline: int
    last_ts_recv: int
    group: int
    members: list[MemberPrint]
    late: bool = False


class MomentAnchor(msgspec.Struct, array_like=True, gc=False):
    """The packet that opened the latest moment of one underlying: a multi-leg candidate."""

    ts_recv: int
    serial: int
    group: int


class MomentGroup(msgspec.Struct, array_like=True, gc=False):
    """Packets of one underlying that opened at the same moment; emitted when all have
    closed."""

    open_count: int
    closed: list[OpenPacket]


class Ring(msgspec.Struct, array_like=True, gc=False):
    """The last `rolling_window_size` samples of one metric; `pos` is the oldest once full."""

    values: list[int]
    pos: int = 0


class UnderlyingBaselines(msgspec.Struct, array_like=True, gc=False):
    """Rolling baselines of one underlying: packet premium, packet size, quoted spread."""

    last_ts: int
    premium: Ring
    size: Ring
    spread: Ring


class DarkSymbol(msgspec.Struct, array_like=True, gc=False):
    """Lit reference of one equity (last quote, last lit print) and its open dark windows."""

    quote: QuoteRef | None = None
    last_lit_px: int = 0
    last_lit_ts: int = -1
    blocks: list[int] = msgspec.field(default_factory=list)
    episode: int = -1


class PendingBlock(msgspec.Struct, array_like=True, gc=False):
    """A large off-exchange print waiting for its impact window to pass."""

    serial: int
    symbol: str
    deadline: int
    ts_recv: int
    member: MemberPrint
    notional_cents: int
    ref_px: int
    ref_quote: QuoteRef | None
    last_px: int = 0
    observations: int = 0
    last_quote: QuoteRef | None = None


class Episode(msgspec.Struct, array_like=True, gc=False):
    """Mid-size off-exchange prints of one symbol inside a window capped from the first."""

    serial: int
    symbol: str
    deadline: int
    ref_px: int
    ref_quote: QuoteRef | None
    members: list[MemberPrint]
    at_or_above: int = 0
    at_or_below: int = 0
    placed: int = 0
    size: int = 0
    notional_cents: int = 0
    last_ts_recv: int = 0


class EngineState(msgspec.Struct):
    """Everything the engine carries from one batch to the next (checkpointed as bytes)."""

    config: EngineConfig
    run_id: str
    clock: int = -1
    day: int = 0
    day_begin: int = 0
    day_end: int = 0
    contracts: dict[int, ContractState] = msgspec.field(default_factory=dict)
    spots: dict[str, int] = msgspec.field(default_factory=dict)
    packets: dict[int, OpenPacket] = msgspec.field(default_factory=dict)
    packet_cursor: int = 0
    next_packet_serial: int = 0
    packet_deadline: int = NO_DEADLINE
    open_by_key: dict[int, int] = msgspec.field(default_factory=dict)
    anchors: dict[str, MomentAnchor] = msgspec.field(default_factory=dict)
    groups: dict[int, MomentGroup] = msgspec.field(default_factory=dict)
    baselines: dict[str, UnderlyingBaselines] = msgspec.field(default_factory=dict)
    dark: dict[str, DarkSymbol] = msgspec.field(default_factory=dict)
    blocks: dict[int, PendingBlock] = msgspec.field(default_factory=dict)
    block_cursor: int = 0
    next_block_serial: int = 0
    episodes: dict[int, Episode] = msgspec.field(default_factory=dict)
    episode_cursor: int = 0
    next_episode_serial: int = 0
    dark_deadline: int = NO_DEADLINE
    # receive time of the latest feed gap: a change-stream quote from before it (or from
    # another New York day) counts no longer than `nbbo_max_age_ns` (it may have changed unseen)
    last_gap_ts: int = -1
    counters: dict[str, int] = msgspec.field(default_factory=dict)


_encoder = msgspec.msgpack.Encoder()
_decoder = msgspec.msgpack.Decoder(EngineState)


def initial_state(config: EngineConfig, run_id: str) -> EngineState:
    """An empty engine for one run."""
    if not run_id:
        raise ValueError("run_id must be a non-empty string")
    return EngineState(config=config, run_id=run_id)


def encode_state(state: EngineState) -> bytes:
    """The state as msgpack bytes (what the live service checkpoints to Redis)."""
    return _encoder.encode(state)


def decode_state(data: bytes) -> EngineState:
    """The state from `encode_state` bytes; raises `msgspec.DecodeError` on anything else."""
    return _decoder.decode(data)


def bump(state: EngineState, counter: str, by: int = 1) -> None:
    """Count something the engine skipped or flagged (kept in the state, never dropped)."""
    state.counters[counter] = state.counters.get(counter, 0) + by
