"""The flow engine on the kernel: its state (arrays and registries), input columns, the step.

`ColumnarState` holds what `compute.flow.kernel.FlowKernel` works on: int64 arrays laid out
as `compute.flow.layout` says, plus the registries that turn ids and strings into dense
indexes (instrument ids, underlying and equity names, contract symbols) and the daily volume
history the kernel asks for once a day. `step_columns` grows the pools so a batch cannot run
out, runs the kernel over one batch of input columns and returns its output rows;
`compute.flow.formatting` turns those into events or tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from compute.calendar import new_york_date, new_york_day_bounds, trading_days_to
from compute.flow.config import EngineConfig
from compute.flow.kernel import FlowKernel
from compute.flow.layout import (
    B_WIDTH,
    C_DEFINED,
    C_WIDTH,
    COUNTERS,
    D_WIDTH,
    E_EPISODE,
    E_QUOTE,
    E_WIDTH,
    EP_WIDTH,
    I_ASK,
    I_ASK_SZ,
    I_BID,
    I_BID_SZ,
    I_CONTRACT,
    I_EXPIRY,
    I_FLAG,
    I_INSTRUMENT,
    I_KIND,
    I_MULTIPLIER,
    I_NAME,
    I_PRICE,
    I_PUBLISHER,
    I_RIGHT,
    I_SEQUENCE,
    I_SIZE,
    I_STRIKE,
    I_SYMBOL,
    I_TS_EVENT,
    I_TS_RECV,
    I_WIDTH,
    K_CONTRACT,
    K_EQUITY_PRINT,
    K_EQUITY_QUOTE,
    K_GAP,
    K_HEARTBEAT,
    K_NOT_RAW,
    K_OPEN_INTEREST,
    K_OPTION_PRINT,
    K_OPTION_QUOTE,
    K_SKIP,
    L_WIDTH,
    M_WIDTH,
    N_ANCHOR_GROUP,
    N_ANCHOR_SERIAL,
    N_SPOT,
    N_WIDTH,
    NULL,
    O_WIDTH,
    P_WIDTH,
    Q_WIDTH,
    QF_ASK,
    QF_BID,
    QF_TS,
    QR_WIDTH,
    R_WIDTH,
    RIGHT_CALL,
    RIGHT_PUT,
    S_BLOCK_HEAD,
    S_BLOCK_TAIL,
    S_CLOCK,
    S_DARK_MEMBER_FREE,
    S_DARK_MEMBERS_USED,
    S_EPISODE_HEAD,
    S_EPISODE_TAIL,
    S_FIFO_HEAD,
    S_FIFO_TAIL,
    S_LAST_GAP_TS,
    S_MEMBER_FREE,
    S_MEMBERS_USED,
    S_OVERFLOW,
    S_PACKET_FREE,
    S_PACKETS_USED,
    S_WIDTH,
)
from compute.flow.packets import roll_volume_history
from schemas.errors import FlowtapeError
from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    Quarantined,
)
from schemas.occ import parse_occ

Int64Array = npt.NDArray[np.int64]
PUBLISHER_LIMIT = 1 << 16  # publisher ids index a scratch array of this size
_RIGHTS = {"C": RIGHT_CALL, "P": RIGHT_PUT}


class KernelRangeError(FlowtapeError, ValueError):
    """A value outside the kernel's exact integer range (the batch is not applied)."""

    code = "kernel_range"


def _table(rows: int, width: int, fill: int = 0) -> Int64Array:
    return _filled((rows, width), fill)


def _filled(shape: tuple[int, ...], fill: int) -> Int64Array:
    """A new array of `fill`; zeros come from the OS untouched (the pages a pool never uses
    are never written)."""
    if fill == 0:
        return np.zeros(shape, np.int64)
    return np.full(shape, fill, np.int64)


def _grown(array: Int64Array, rows: int, fill: int = 0) -> Int64Array:
    """`array` with at least `rows` rows (doubling), new rows set to `fill`."""
    have = array.shape[0]
    if have >= rows:
        return array
    size = max(rows, 2 * have)
    grown = _filled((size, *array.shape[1:]), fill)
    grown[:have] = array
    return grown


@dataclass(slots=True)
class KernelOutputs:
    """The kernel's output rows of one batch (views into its buffers, valid until the next
    step) and the input columns they point into."""

    events: Int64Array
    prints: Int64Array  # one column per print (O_* rows)
    packets: Int64Array
    members: Int64Array
    legs: Int64Array
    scores: Int64Array
    quarantined: Int64Array
    dark: Int64Array
    dark_members: Int64Array
    # lone singles no rule reads, left out of `packets` when not `full` (only counted)
    quiet_singles: int = 0


class ColumnarState:
    """Everything the kernel carries from one batch to the next."""

    def __init__(self, config: EngineConfig, run_id: str, capacity: int = 1024) -> None:
        if not run_id:
            raise ValueError("run_id must be a non-empty string")
        if config.rolling_window_size > 1 << 14:
            raise ValueError("rolling_window_size above 16384 is outside the kernel's range")
        self.config = config
        self.run_id = run_id
        self.instruments: dict[int, int] = {}
        self.instrument_ids: list[int] = []
        self.name_index: dict[str, int] = {}
        self.names: list[str] = []
        self.symbol_index: dict[str, int] = {}
        self.symbols: list[str] = []
        self.past_volumes: dict[int, list[int]] = {}
        self._fallbacks: dict[tuple[str, str], tuple[int, int, int, int, int] | None] = {}
        window = config.rolling_window_size
        self.contracts = _table(capacity, C_WIDTH)
        self.name_rows = self._new_names(capacity)
        self.premium_ring = _table(capacity, window)
        self.size_ring = _table(capacity, window)
        self.spread_ring = _table(capacity, window)
        self.packets = _table(capacity, P_WIDTH)
        self.fifo = np.zeros(capacity, np.int64)
        self.members = _table(capacity, M_WIDTH)
        self.scalars = np.zeros(S_WIDTH, np.int64)
        self.scalars[S_CLOCK] = -1
        self.scalars[S_LAST_GAP_TS] = -1
        self.scalars[S_PACKET_FREE] = -1
        self.scalars[S_MEMBER_FREE] = -1
        self.scalars[S_OVERFLOW] = -1
        self.counters = np.zeros(len(COUNTERS), np.int64)
        self.kernel = FlowKernel(config, self)
        self.format_cache: object = None  # what formatting keeps of the registries
        self.out_prints = np.empty((O_WIDTH, 0), np.int64)  # a column per print
        self.out_packets = np.empty((0, Q_WIDTH), np.int64)
        self.out_members = np.empty((0, M_WIDTH), np.int64)
        self.out_legs = np.empty((0, L_WIDTH), np.int64)
        self.out_scores = np.empty((0, R_WIDTH), np.int64)
        self.out_quarantined = np.empty((0, QR_WIDTH), np.int64)
        self.kernel.scratch_parts = np.zeros(0, np.int64)
        self.kernel.scratch_sizes = np.zeros(0, np.int64)
        self.kernel.scratch_venues = np.full(PUBLISHER_LIMIT, -1, np.int64)
        self.lit = self._new_lit(capacity)
        self.blocks = _table(capacity, B_WIDTH)
        self.episodes = _table(capacity, EP_WIDTH)
        self.dark_members = _table(capacity, M_WIDTH)
        self.scalars[S_DARK_MEMBER_FREE] = -1
        self.out_dark = np.empty((0, D_WIDTH), np.int64)
        self.out_dark_members = np.empty((0, M_WIDTH), np.int64)

    @staticmethod
    def _new_names(rows: int) -> Int64Array:
        names = _table(rows, N_WIDTH)
        names[:, N_SPOT] = NULL
        names[:, N_ANCHOR_SERIAL] = -1
        names[:, N_ANCHOR_GROUP] = -1
        return names

    @staticmethod
    def _new_lit(rows: int) -> Int64Array:
        lit = _table(rows, E_WIDTH)
        lit[:, E_QUOTE + QF_TS] = NULL
        lit[:, E_QUOTE + QF_BID] = NULL
        lit[:, E_QUOTE + QF_ASK] = NULL
        lit[:, E_EPISODE] = -1
        return lit

    # ---- what the kernel asks (once per day, or per contract and day)

    def day_bounds(self, ts: int) -> tuple[int, int, int]:
        return new_york_day_bounds(ts)

    def trading_days_to(self, day: int, expiry: int) -> int:
        return trading_days_to(day, expiry)

    def start_volume_day(
        self, contract: int, volume_day: int, day_volume: int, day: int
    ) -> tuple[int, int, int]:
        """(history total, days kept, unusual limit) once the contract moves from
        `volume_day` to the later `day` (`0 < volume_day < day`)."""
        past = self.past_volumes.setdefault(contract, [])
        total, limit = roll_volume_history(past, volume_day, day_volume, day, self.config)
        return total, len(past), limit

    # ---- registries

    def contract_row(self, instrument_id: int) -> int:
        row = self.instruments.get(instrument_id)
        if row is None:
            row = self.instruments[instrument_id] = len(self.instrument_ids)
            self.instrument_ids.append(instrument_id)
        return row

    def name_row(self, name: str) -> int:
        row = self.name_index.get(name)
        if row is None:
            row = self.name_index[name] = len(self.names)
            self.names.append(name)
        return row

    def symbol_row(self, symbol: str) -> int:
        row = self.symbol_index.get(symbol)
        if row is None:
            row = self.symbol_index[symbol] = len(self.symbols)
            self.symbols.append(symbol)
        return row

    def fallback_terms(self, symbol: str, underlying: str) -> tuple[int, int, int, int, int] | None:
        """(symbol, name, right, strike, expiry) from an OCC symbol, None if it is none."""
        key = (symbol, underlying)
        if key not in self._fallbacks:
            try:
                occ = parse_occ(symbol)
            except ValueError:
                self._fallbacks[key] = None
            else:
                self._fallbacks[key] = (
                    self.symbol_row(symbol),
                    self.name_row(underlying or occ.root),
                    _RIGHTS[occ.right],
                    occ.strike_price,
                    occ.expiration_date,
                )
        return self._fallbacks[key]

    @property
    def counter_values(self) -> dict[str, int]:
        """The engine's counters that are not zero, by name."""
        return {name: int(v) for name, v in zip(COUNTERS, self.counters, strict=True) if v}

    # ---- growth: before a batch, so the kernel never runs out

    def reserve(self, prints: int) -> None:
        """Room for `prints` more packets and members, and for every registered name."""
        self.contracts = _grown(self.contracts, len(self.instrument_ids))
        rows = len(self.names)
        if self.name_rows.shape[0] < rows:
            grown = self._new_names(max(rows, 2 * self.name_rows.shape[0]))
            grown[: self.name_rows.shape[0]] = self.name_rows
            self.name_rows = grown
            self.premium_ring = _grown(self.premium_ring, rows)
            self.size_ring = _grown(self.size_ring, rows)
            self.spread_ring = _grown(self.spread_ring, rows)
        need = int(self.scalars[S_PACKETS_USED]) + prints
        if self.packets.shape[0] < need:
            old = self.fifo
            head, tail = int(self.scalars[S_FIFO_HEAD]), int(self.scalars[S_FIFO_TAIL])
            self.packets = _grown(self.packets, need)
            self.fifo = np.zeros(self.packets.shape[0], np.int64)
            positions = np.arange(head, tail)
            self.fifo[positions % self.fifo.shape[0]] = old[positions % old.shape[0]]
        self.members = _grown(self.members, int(self.scalars[S_MEMBERS_USED]) + prints)

    def _bind(self, prints: int, events: int) -> None:
        """Hand the arrays to the kernel, with output rows for this batch."""
        k = self.kernel
        k.contracts = self.contracts
        k.names = self.name_rows
        k.premium_ring = self.premium_ring
        k.size_ring = self.size_ring
        k.spread_ring = self.spread_ring
        k.packets = self.packets
        k.fifo = self.fifo
        k.members = self.members
        k.scalars = self.scalars
        k.counters = self.counters
        # every emitted packet, member and leg is a member held now or a print of the batch
        rows = int(self.scalars[S_MEMBERS_USED]) + prints
        if rows > self.out_packets.shape[0]:
            rows = max(rows, 2 * self.out_packets.shape[0])
            self.out_packets = np.empty((rows, Q_WIDTH), np.int64)
            self.out_members = np.empty((rows, M_WIDTH), np.int64)
            self.out_legs = np.empty((rows, L_WIDTH), np.int64)
            self.out_scores = np.empty((rows, R_WIDTH), np.int64)
        if prints > self.out_prints.shape[1]:
            self.out_prints = np.empty(
                (O_WIDTH, max(prints, 2 * self.out_prints.shape[1])), np.int64
            )
        if events > self.out_quarantined.shape[0]:
            rows = max(events, 2 * self.out_quarantined.shape[0])
            self.out_quarantined = np.empty((rows, QR_WIDTH), np.int64)
        k.prints = self.out_prints
        k.packets_out = self.out_packets
        k.members_out = self.out_members
        k.legs_out = self.out_legs
        k.scores = self.out_scores
        k.quarantined = self.out_quarantined
        slots = self.packets.shape[0]
        if k.scratch_parts.shape[0] < slots:
            k.scratch_parts = np.zeros(slots, np.int64)
            k.scratch_roots = np.zeros(slots, np.int64)
            k.scratch_order = np.zeros(slots, np.int64)
            k.scratch_leg_rows = np.zeros((slots, 7), np.int64)
        if k.scratch_sizes.shape[0] < self.contracts.shape[0]:
            k.scratch_sizes = np.zeros(self.contracts.shape[0], np.int64)
            k.scratch_legs = np.zeros(self.contracts.shape[0], np.int64)

    def reserve_dark(self, equity_prints: int) -> None:
        """Room for `equity_prints` more dark-pool windows and members, and a lit row for
        every registered name."""
        rows = len(self.names)
        if self.lit.shape[0] < rows:
            grown = self._new_lit(max(rows, 2 * self.lit.shape[0]))
            grown[: self.lit.shape[0]] = self.lit
            self.lit = grown
        self.blocks = _grown_ring(
            self.blocks, self.scalars, S_BLOCK_HEAD, S_BLOCK_TAIL, equity_prints
        )
        self.episodes = _grown_ring(
            self.episodes, self.scalars, S_EPISODE_HEAD, S_EPISODE_TAIL, equity_prints
        )
        used = int(self.scalars[S_DARK_MEMBERS_USED])
        self.dark_members = _grown(self.dark_members, used + equity_prints)

    def _bind_dark(self, equity_prints: int) -> None:
        """Hand the dark-pool arrays to the kernel, with output rows for this batch."""
        k = self.kernel
        k.lit = self.lit
        k.blocks = self.blocks
        k.episodes = self.episodes
        k.dark_members = self.dark_members
        # every dark-pool event and its members are members held now or prints of the batch
        rows = int(self.scalars[S_DARK_MEMBERS_USED]) + equity_prints
        if rows > self.out_dark.shape[0]:
            rows = max(rows, 2 * self.out_dark.shape[0])
            self.out_dark = np.empty((rows, D_WIDTH), np.int64)
            self.out_dark_members = np.empty((rows, M_WIDTH), np.int64)
        k.dark_out = self.out_dark
        k.dark_members_out = self.out_dark_members


def _grown_ring(
    ring: Int64Array, scalars: Int64Array, head_at: int, tail_at: int, more: int
) -> Int64Array:
    """A ring (row of position p: p % rows) with room for `more` rows past those held, the
    held rows moved to where their positions fall in the grown ring."""
    head, tail = int(scalars[head_at]), int(scalars[tail_at])
    if ring.shape[0] >= tail - head + more:
        return ring
    grown = np.zeros((max(tail - head + more, 2 * ring.shape[0]), ring.shape[1]), np.int64)
    positions = np.arange(head, tail)
    grown[positions % grown.shape[0]] = ring[positions % ring.shape[0]]
    return grown


def new_state(config: EngineConfig, run_id: str, capacity: int = 1024) -> ColumnarState:
    """An empty kernel engine for one run (`capacity`: initial rows of every pool)."""
    return ColumnarState(config, run_id, capacity)


def step_columns(
    state: ColumnarState, events: Int64Array, *, finish: bool = False, full: bool = True
) -> KernelOutputs:
    """Apply one batch of input columns (`compute.flow.layout` I_*); with `finish`, close
    everything after it (end of session). Without `full`, a lone single no rule reads is
    left out of the packet rows and only counted (enough for the tables)."""
    if events.ndim != 2 or events.shape[1] != I_WIDTH or events.dtype != np.int64:
        raise ValueError(f"expected int64 columns of shape (n, {I_WIDTH}), got {events.shape}")
    events = np.ascontiguousarray(events)
    prints = int(np.count_nonzero(events[:, I_KIND] == K_OPTION_PRINT))
    state.reserve(prints)
    state._bind(prints, events.shape[0])
    equity_prints = int(np.count_nonzero(events[:, I_KIND] == K_EQUITY_PRINT))
    state.reserve_dark(equity_prints)
    state._bind_dark(equity_prints)
    k = state.kernel
    k.full_outputs = full
    k.run(events, events.shape[0], finish)
    stopped = int(state.scalars[S_OVERFLOW])
    if stopped >= 0:
        raise KernelRangeError(
            f"event {stopped} of the batch holds a value outside the kernel's exact range "
            f"(price x size or a packet's notional at or above 2**62, or an equity price "
            f"behind a dark-pool verdict at or above 2**56); the state is unusable"
        )
    return KernelOutputs(
        events,
        state.out_prints[:, : k.n_prints],
        state.out_packets[: k.n_packets],
        state.out_members[: k.n_members],
        state.out_legs[: k.n_legs],
        state.out_scores[: k.n_scores],
        state.out_quarantined[: k.n_quarantined],
        state.out_dark[: k.n_dark],
        state.out_dark_members[: k.n_dark_members],
        k.n_quiet_singles,
    )


def columns_from_events(state: ColumnarState, batch: Sequence[Event]) -> Int64Array:
    """Input columns for a batch of event structs (registering their ids and names)."""
    out = np.zeros((len(batch), I_WIDTH), np.int64)
    for i, event in enumerate(batch):
        row = out[i]
        kind = type(event)
        row[I_TS_RECV] = event.ts_recv
        if kind is OptionPrint or kind is OptionQuote or kind is OpenInterest:
            e: OptionPrint | OptionQuote | OpenInterest = event  # type: ignore[assignment]
            _market_fields(row, e)
            c = state.contract_row(e.instrument_id)
            row[I_CONTRACT] = c
            row[I_SYMBOL] = -1
            if c >= state.contracts.shape[0] or not state.contracts[c, C_DEFINED]:
                terms = state.fallback_terms(e.symbol, e.underlying)
                if terms is not None:
                    row[I_SYMBOL], row[I_NAME], row[I_RIGHT], row[I_STRIKE], row[I_EXPIRY] = terms
                    row[I_MULTIPLIER] = 100
            if kind is OptionPrint:
                p: OptionPrint = event  # type: ignore[assignment]
                row[I_KIND] = K_OPTION_PRINT
                row[I_PRICE] = p.price
                row[I_SIZE] = p.size
                _quote_fields(row, p.bid_px, p.ask_px, p.bid_sz, p.ask_sz)
            elif kind is OptionQuote:
                q: OptionQuote = event  # type: ignore[assignment]
                row[I_KIND] = K_OPTION_QUOTE
                _quote_fields(row, q.bid_px, q.ask_px, q.bid_sz, q.ask_sz)
                row[I_FLAG] = q.sampled
            else:
                row[I_KIND] = K_OPEN_INTEREST
                row[I_PRICE] = event.open_interest  # type: ignore[attr-defined]
        elif kind is OptionContract:
            d: OptionContract = event  # type: ignore[assignment]
            _market_fields(row, d)
            row[I_KIND] = K_CONTRACT
            row[I_CONTRACT] = state.contract_row(d.instrument_id)
            row[I_SYMBOL] = state.symbol_row(d.symbol)
            row[I_NAME] = state.name_row(d.underlying)
            row[I_RIGHT] = _RIGHTS[d.right]
            row[I_STRIKE] = d.strike_price
            try:
                row[I_EXPIRY] = parse_occ(d.symbol).expiration_date
            except ValueError:
                row[I_EXPIRY] = new_york_date(d.expiration) if d.expiration else 0
            row[I_MULTIPLIER] = d.multiplier
        elif kind is EquityPrint:
            ep: EquityPrint = event  # type: ignore[assignment]
            _market_fields(row, ep)
            row[I_KIND] = K_EQUITY_PRINT
            row[I_NAME] = state.name_row(ep.symbol)
            row[I_PRICE] = ep.price
            row[I_SIZE] = ep.size
            row[I_FLAG] = ep.off_exchange
            _quote_fields(row, ep.bid_px, ep.ask_px, None, None)
        elif kind is EquityQuote:
            eq: EquityQuote = event  # type: ignore[assignment]
            _market_fields(row, eq)
            row[I_KIND] = K_EQUITY_QUOTE
            row[I_NAME] = state.name_row(eq.symbol)
            _quote_fields(row, eq.bid_px, eq.ask_px, None, None)
        elif kind is Heartbeat:
            row[I_KIND] = K_HEARTBEAT
        elif kind is Gap:
            row[I_KIND] = K_GAP
        elif kind is Quarantined:
            row[I_KIND] = K_SKIP
        else:
            row[I_KIND] = K_NOT_RAW
    return out


def _market_fields(
    row: Int64Array,
    e: OptionPrint | OptionQuote | OpenInterest | OptionContract | EquityPrint | EquityQuote,
) -> None:
    if not 0 <= e.publisher_id < PUBLISHER_LIMIT:
        raise ValueError(f"publisher_id {e.publisher_id} outside 0..{PUBLISHER_LIMIT - 1}")
    row[I_TS_EVENT] = e.ts_event
    row[I_PUBLISHER] = e.publisher_id
    row[I_INSTRUMENT] = e.instrument_id
    if not isinstance(e, OptionContract):
        row[I_SEQUENCE] = e.sequence


def _quote_fields(
    row: Int64Array, bid: int | None, ask: int | None, bid_sz: int | None, ask_sz: int | None
) -> None:
    row[I_BID] = NULL if bid is None else bid
    row[I_ASK] = NULL if ask is None else ask
    row[I_BID_SZ] = NULL if bid_sz is None else bid_sz
    row[I_ASK_SZ] = NULL if ask_sz is None else ask_sz
