# mypy: disable-error-code="no-any-return"
# (numpy indexing is untyped to mypy, and int() on a C integer would box it in the compiled kernel)
"""The options-flow engine's per-event path over typed arrays (compiled by Cython: kernel.pxd).

Plain Python that Cython compiles ahead of time: with `kernel.pxd` every name below is a C
integer or a typed memoryview and every method a C call. In event order it does everything
`compute.flow.engine.step` does to its state and writes what formatting needs as integer
rows: one per print, per emitted packet, member, leg and scored packet. Formatting (ids,
tags, hits, alerts, tables) happens afterwards and changes no state, so outputs cannot
depend on where batches begin or end. Offsets and codes: `compute.flow.layout`.

Arithmetic matches the struct engine bit for bit: `//` and `%` keep Python's floor
semantics (compiled with `cdivision` off) and a notional that could leave int64 stops the
kernel at that event (`S_OVERFLOW`), which the caller reports. Rare work whose rules live in
Python (New York day bounds, trading-day counts, the daily volume history) is asked of
`hooks` once per day, or once per contract and day.
"""

from __future__ import annotations

from typing import Any

import cython
import numpy as np
import numpy.typing as npt

from compute.flow.layout import (
    B_DEADLINE,
    B_LIT_PRINTS,
    B_MEMBER,
    B_NAME,
    B_NOTIONAL,
    B_QUOTES,
    B_REF_PX,
    B_REF_QUOTE,
    B_TS_RECV,
    BUCKET_A,
    BUCKET_AA,
    BUCKET_B,
    BUCKET_BB,
    BUCKET_M,
    BUCKET_NA,
    C_AVG_LIMIT,
    C_DAY_VOLUME,
    C_DEFINED,
    C_DTE,
    C_DTE_DAY,
    C_EXPIRY,
    C_LAST_PRICE,
    C_MULTIPLIER,
    C_NAME,
    C_OPEN_BUY,
    C_OPEN_INTEREST,
    C_OPEN_SELL,
    C_OPEN_UNKNOWN,
    C_P_ASK,
    C_P_ASK_SZ,
    C_P_BID,
    C_P_BID_SZ,
    C_P_SAMPLED,
    C_P_TS,
    C_PAST_DAYS,
    C_PAST_TOTAL,
    C_Q_ASK,
    C_Q_ASK_SZ,
    C_Q_BID,
    C_Q_BID_SZ,
    C_Q_SAMPLED,
    C_Q_TS,
    C_RIGHT,
    C_STRIKE,
    C_SYMBOL,
    C_TICK,
    C_UNUSUAL_DAY,
    C_VOLUME_DAY,
    C_WIDTH,
    CT_BLOCKS_UNOBSERVED,
    CT_BLOCKS_WITHOUT_LIT_REFERENCE,
    CT_CONTRACTS_FROM_SYMBOL,
    CT_DARKPOOL_LATE_PRINTS,
    CT_EPISODES_WITHOUT_LIT_REFERENCE,
    CT_EQUITY_PRINTS_LATE_IGNORED,
    CT_EQUITY_PRINTS_UNUSABLE,
    CT_EQUITY_QUOTES_LATE_IGNORED,
    CT_EQUITY_QUOTES_UNUSABLE,
    CT_LATE_EVENTS,
    CT_QUARANTINED,
    CT_QUOTES_LATE_IGNORED,
    D_COUNT,
    D_IMPACT,
    D_KIND,
    D_MEMBERS,
    D_NAME,
    D_NOTIONAL,
    D_QUOTE_1,
    D_QUOTED,
    D_QUOTES,
    D_SIZE,
    D_TS_END,
    D_TS_RECV,
    D_TS_START,
    DK_ABSORBED_BLOCK,
    DK_DISTRIBUTION,
    DK_STEALTH_ACCUMULATION,
    E_EPISODE,
    E_LIT_PRINTS,
    E_LIT_PX,
    E_QUOTE,
    E_QUOTES,
    EP_ABOVE,
    EP_BELOW,
    EP_COUNT,
    EP_DEADLINE,
    EP_LAST_TS,
    EP_MEMBERS,
    EP_MEMBERS_TAIL,
    EP_NAME,
    EP_NOTIONAL,
    EP_PLACED,
    EP_REF_PX,
    EP_REF_QUOTE,
    EP_SIZE,
    EP_TS_END,
    EP_TS_START,
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
    INF_BUY_A_QUOTE,
    INF_BUY_AA_QUOTE,
    INF_BUY_M_DEPTH,
    INF_BUY_M_QUOTE_MID,
    INF_BUY_M_TICK,
    INF_BUY_M_TRADE_SIZE,
    INF_BUY_NA_TICK,
    INF_SELL_B_QUOTE,
    INF_SELL_BB_QUOTE,
    INF_SELL_M_DEPTH,
    INF_SELL_M_QUOTE_MID,
    INF_SELL_M_TICK,
    INF_SELL_M_TRADE_SIZE,
    INF_SELL_NA_TICK,
    INF_UNKNOWN_MID,
    INF_UNKNOWN_NA,
    K_CONTRACT,
    K_EQUITY_PRINT,
    K_EQUITY_QUOTE,
    K_GAP,
    K_NOT_RAW,
    K_OPEN_INTEREST,
    K_OPTION_PRINT,
    K_OPTION_QUOTE,
    K_SKIP,
    L_CONTRACT,
    L_COUNT,
    L_DAY_VOLUME,
    L_DTE,
    L_EXPIRY,
    L_INSTRUMENT,
    L_MONEYNESS,
    L_OPEN_INTEREST,
    L_PREMIUM,
    L_RATIO,
    L_RIGHT,
    L_SIDE,
    L_SIZE,
    L_STRIKE,
    L_SYMBOL,
    L_VWAP,
    LIMB,
    M_ASK,
    M_BID,
    M_BUCKET,
    M_CONTRACT,
    M_INSTRUMENT,
    M_NEXT,
    M_PRICE,
    M_PUBLISHER,
    M_SEQUENCE,
    M_SIDE,
    M_SIZE,
    M_TS_EVENT,
    M_WIDTH,
    N_ANCHOR_GROUP,
    N_ANCHOR_SERIAL,
    N_ANCHOR_SLOT,
    N_ANCHOR_TS,
    N_BASE_EXISTS,
    N_BASE_LAST_TS,
    N_BASE_LEN,
    N_BASE_POS,
    N_P_SUM,
    N_S_SUM,
    N_SPOT,
    N_SPREAD_LEN,
    N_SPREAD_POS,
    NO_DEADLINE,
    NULL,
    O_ASK,
    O_ASK_SZ,
    O_BID,
    O_BID_SZ,
    O_CONTRACT,
    O_EVENT,
    O_INFERENCE,
    O_INSTRUMENT,
    O_LATE,
    O_NAME,
    O_PRICE,
    O_PUBLISHER,
    O_QUOTE_TS,
    O_SEQUENCE,
    O_SIZE,
    O_STATUS,
    O_SYMBOL,
    O_TS_EVENT,
    P_CONTRACT,
    P_COUNT,
    P_DEADLINE,
    P_FIRST_TS,
    P_FIRST_TS_EVENT,
    P_GROUP,
    P_GROUP_HEAD,
    P_GROUP_OPEN,
    P_GROUP_TAIL,
    P_LAST_TS,
    P_LATE,
    P_MEMBERS,
    P_MEMBERS_TAIL,
    P_NAME,
    P_NEXT,
    P_SERIAL,
    P_SIDE,
    P_STATE,
    PK_BLOCK,
    PK_MULTI_LEG,
    PK_SINGLE,
    PK_SPLIT,
    PK_SWEEP,
    PS_FREE,
    PS_OPEN,
    PS_WAITING,
    Q_BUCKETS,
    Q_BUY,
    Q_COUNT,
    Q_COVERED,
    Q_KIND,
    Q_LATE,
    Q_LEG_COUNT,
    Q_LEGS,
    Q_LEVELS,
    Q_MEMBERS,
    Q_NAME,
    Q_PREMIUM,
    Q_SCORE,
    Q_SELL,
    Q_SIDE,
    Q_SIZE,
    Q_SPOT,
    Q_TS_END,
    Q_TS_RECV,
    Q_TS_START,
    QF_ASK,
    QF_BID,
    QF_PUBLISHER,
    QF_TS,
    QR_EVENT,
    QR_REASON,
    R_DAY,
    R_FIRST_OPEN_INTEREST,
    R_N,
    R_P_SUM,
    R_PACKET,
    R_S_SUM,
    R_SPREAD_BPS,
    R_U_AVG_LIMIT,
    R_U_OPEN_INTEREST,
    R_U_PAST_DAYS,
    R_U_PAST_TOTAL,
    R_U_VOLUME,
    R_UNUSUAL,
    REASON_BAD_PRINT,
    REASON_NOT_RAW,
    REASON_UNKNOWN_CONTRACT,
    RIGHT_CALL,
    S_BLOCK_HEAD,
    S_BLOCK_TAIL,
    S_CLOCK,
    S_DARK_MEMBER_FREE,
    S_DARK_MEMBERS_USED,
    S_DAY,
    S_DAY_BEGIN,
    S_DAY_END,
    S_EPISODE_HEAD,
    S_EPISODE_TAIL,
    S_FIFO_HEAD,
    S_FIFO_TAIL,
    S_LAST_GAP_TS,
    S_MEMBER_FREE,
    S_MEMBERS_USED,
    S_NEXT_SERIAL,
    S_OVERFLOW,
    S_PACKET_FREE,
    S_PACKETS_USED,
    SIDE_BUY,
    SIDE_MIXED,
    SIDE_SELL,
    SIDE_UNKNOWN,
    ST_CROSSED,
    ST_HELD,
    ST_JOINED,
    ST_MISSING,
    ST_PRINT,
    ST_STALE,
    UNLIMITED,
)

# A notional (price x size, summed over a packet's members) stays below this; a print
# beyond it stops the kernel rather than wrap.
Table = npt.NDArray[np.int64]  # 2-D, C-contiguous
Column = npt.NDArray[np.int64]

NOTIONAL_LIMIT = 2**62
PREMIUM_DIVISOR = 10_000_000  # price (1e-9 $) x size x multiplier -> cents
FIXED_SCALE = 10_000
# A lit move in basis points is divided out digit pair by digit pair: prices below
# PRICE_LIMIT keep every partial product in int64, and so does a whole part below
# RATIO_LIMIT once scaled by 1e8.
PRICE_LIMIT = 2**56
RATIO_LIMIT = 2**36
# Contract rows are read in the order the batch names them, mostly cold on a wide chain:
# the compiled kernel asks the CPU to load the row of the event this far ahead.
PREFETCH_AHEAD = 8

if not cython.compiled:

    def prefetch(address: Any) -> None:
        """A CPU cache hint (`__builtin_prefetch`, declared in kernel.pxd): nothing in Python."""


def infer(price: int, size: int, bid: int, ask: int, bid_sz: int, ask_sz: int, tick: int) -> int:
    """`compute.flow.aggressor.infer_side` as an inference code (`NULL` for None)."""
    if bid == NULL or ask == NULL:
        if tick > 0:
            return INF_BUY_NA_TICK
        if tick < 0:
            return INF_SELL_NA_TICK
        return INF_UNKNOWN_NA
    if price > ask:
        return INF_BUY_AA_QUOTE
    if price < bid:
        return INF_SELL_BB_QUOTE
    if price == ask and price != bid:
        return INF_BUY_A_QUOTE
    if price == bid and price != ask:
        return INF_SELL_B_QUOTE
    twice = 2 * price
    if twice > bid + ask:
        return INF_BUY_M_QUOTE_MID
    if twice < bid + ask:
        return INF_SELL_M_QUOTE_MID
    if bid_sz != NULL and ask_sz != NULL and bid_sz != ask_sz:
        if size == bid_sz:
            return INF_BUY_M_TRADE_SIZE
        if size == ask_sz:
            return INF_SELL_M_TRADE_SIZE
        if ask_sz > bid_sz:
            return INF_BUY_M_DEPTH
        if bid_sz > ask_sz:
            return INF_SELL_M_DEPTH
    if tick > 0:
        return INF_BUY_M_TICK
    if tick < 0:
        return INF_SELL_M_TICK
    return INF_UNKNOWN_MID


def inference_side(code: int) -> int:
    if code <= INF_UNKNOWN_NA:
        return SIDE_UNKNOWN
    return SIDE_BUY if code % 2 == 0 else SIDE_SELL


def inference_bucket(code: int) -> int:
    if code == INF_UNKNOWN_NA or code == INF_BUY_NA_TICK or code == INF_SELL_NA_TICK:
        return BUCKET_NA
    if code == INF_BUY_AA_QUOTE:
        return 0
    if code == INF_BUY_A_QUOTE:
        return 1
    if code == INF_SELL_B_QUOTE:
        return 3
    if code == INF_SELL_BB_QUOTE:
        return 4
    return 2


def fixed_ratio(num: int, den: int) -> int:
    """`num / den` rounded half-to-even to 1e-4, as an integer count of 1e-4 (`den > 0`)."""
    q = num * FIXED_SCALE // den
    r = num * FIXED_SCALE - q * den
    twice = 2 * r
    if twice > den or (twice == den and q % 2 == 1):
        q += 1
    return q


def gcd(a: int, b: int) -> int:
    while b:
        a, b = b, a % b
    return a


def half_sum(a: int, b: int) -> int:
    """`(a + b) // 2` without forming the sum."""
    return a // 2 + b // 2 + (a % 2 + b % 2) // 2


_TABLES = (
    "contracts", "names", "premium_ring", "size_ring", "spread_ring", "packets", "members",
    "lit", "blocks", "episodes", "dark_members", "prints", "packets_out", "members_out",
    "legs_out", "scores", "quarantined", "dark_out", "dark_members_out", "scratch_leg_rows",
)  # fmt: skip
_COLUMNS = (
    "fifo", "scalars", "counters", "scratch_parts", "scratch_roots", "scratch_order",
    "scratch_venues", "scratch_sizes", "scratch_legs",
)  # fmt: skip


class FlowKernel:
    """The flow engine's state as arrays, and the per-event path over one batch.

    The caller (`compute.flow.columnar`) owns the arrays: it grows the pools so one batch
    cannot run out (`packets` and `members` have a free row for every print of the batch),
    sizes the output rows, and reads `n_*` back after `run`.
    """

    # state (owned and grown by the caller between batches)
    contracts: Table
    names: Table
    premium_ring: Table
    size_ring: Table
    spread_ring: Table
    packets: Table
    members: Table
    fifo: Column
    scalars: Column
    counters: Column
    lit: Table
    blocks: Table
    episodes: Table
    dark_members: Table
    # outputs of one batch, sized by the caller
    prints: Table
    packets_out: Table
    members_out: Table
    legs_out: Table
    scores: Table
    quarantined: Table
    dark_out: Table
    dark_members_out: Table
    # scratch space of one moment or order
    scratch_parts: Column
    scratch_roots: Column
    scratch_order: Column
    scratch_venues: Column  # per publisher id: -1 between moments
    scratch_sizes: Column  # per contract: 0 between orders
    scratch_legs: Column  # per contract: its leg index + 1 in the order being built, else 0
    scratch_leg_rows: Table

    def __init__(self, config: Any, hooks: Any) -> None:
        self.hooks = hooks
        self.max_age = config.nbbo_max_age_ns
        self.cluster_window = config.cluster_window_ns
        self.sync_window = config.multi_leg_sync_ns
        self.max_legs = config.multi_leg_max_legs
        self.max_ratio = config.multi_leg_max_ratio
        self.block_min_size = config.block_min_size
        self.block_min_premium = config.block_min_premium_cents
        self.window = config.rolling_window_size
        self.ttl = config.rolling_ttl_ns
        self.spike_min_premium = config.classifier_spike_min_premium_cents
        self.repeated_min_prints = config.classifier_repeated_hits_min_prints
        # 0: a lone single no rule reads leaves no packet row (only a count: `n_quiet_singles`)
        self.full_outputs = 1
        self.dark_block_shares = config.darkpool_block_min_shares
        self.dark_block_notional = config.darkpool_block_min_notional_cents
        self.dark_impact_window = config.darkpool_impact_window_ns
        self.dark_max_impact = config.darkpool_absorbed_max_impact_bps
        self.dark_episode_window = config.darkpool_episode_window_ns
        self.dark_episode_prints = config.darkpool_episode_min_prints
        self.dark_episode_shares = config.darkpool_episode_min_shares
        self.dark_side_pct = config.darkpool_episode_min_side_pct
        self.dark_min_move = config.darkpool_episode_min_move_bps
        self.held_begin = 0
        self.held_end = 0
        self.event = 0
        self.n_prints = 0
        self.n_packets = 0
        self.n_members = 0
        self.n_legs = 0
        self.n_scores = 0
        self.n_quarantined = 0
        self.n_dark = 0
        self.n_dark_members = 0
        self.n_quiet_singles = 0
        self.dark_deadline = NO_DEADLINE  # the earliest of the open dark-pool windows
        # Empty until the caller binds its arrays: reading one before then gives an empty
        # array, not an unset buffer.
        for name in _TABLES:
            setattr(self, name, np.zeros((0, 1), np.int64))
        for name in _COLUMNS:
            setattr(self, name, np.zeros(0, np.int64))

    # ---- the batch

    def run(self, events: Any, n: int, finish: int) -> None:
        """Apply rows `0..n-1` of `events` in order; with `finish`, close everything after."""
        self.n_prints = self.n_packets = self.n_members = 0
        self.n_legs = self.n_scores = self.n_quarantined = 0
        self.n_dark = self.n_dark_members = self.n_quiet_singles = 0
        self.refresh_dark_deadline()
        rows = self.contracts.shape[0]
        for i in range(n):
            if cython.compiled and i + PREFETCH_AHEAD < n:
                c = events[i + PREFETCH_AHEAD, I_CONTRACT]
                if 0 <= c < rows:
                    for k in range(0, C_WIDTH, 8):  # every cache line of the row
                        prefetch(cython.address(self.contracts[c, k]))
            kind = events[i, I_KIND]
            if kind == K_SKIP:
                continue
            if kind == K_NOT_RAW:
                self.quarantine(i, REASON_NOT_RAW)
                continue
            t = events[i, I_TS_RECV]
            self.event = i
            late = 0
            clock = self.scalars[S_CLOCK]
            if t > clock:
                self.close_packets(t)
                if t > self.dark_deadline:
                    self.close_dark(t)
                self.scalars[S_CLOCK] = t
            elif t < clock:
                late = 1
                self.counters[CT_LATE_EVENTS] += 1
            if kind == K_OPTION_PRINT:
                self.option_print(events, i, t, late)
            elif kind == K_OPTION_QUOTE:
                self.option_quote(events, i, t)
            elif kind == K_EQUITY_PRINT:
                self.equity_print(events, i, t, late)
            elif kind == K_EQUITY_QUOTE:
                self.equity_quote(events, i, t)
            elif kind == K_CONTRACT:
                self.define(events, i)
            elif kind == K_OPEN_INTEREST:
                c = self.contract(events, i)
                if c >= 0:
                    self.contracts[c, C_OPEN_INTEREST] = events[i, I_PRICE]
            elif kind == K_GAP:
                if t > self.scalars[S_LAST_GAP_TS]:
                    self.scalars[S_LAST_GAP_TS] = t
            # heartbeats only move event time forward
            if self.scalars[S_OVERFLOW] >= 0:
                return
        if finish:
            self.event = n
            self.close_packets(NO_DEADLINE)
            self.close_dark(NO_DEADLINE)
            for k in range(self.names.shape[0]):
                self.names[k, N_ANCHOR_SERIAL] = -1
                self.names[k, N_ANCHOR_GROUP] = -1

    def quarantine(self, i: int, reason: int) -> None:
        row = self.n_quarantined
        self.quarantined[row, QR_EVENT] = i
        self.quarantined[row, QR_REASON] = reason
        self.n_quarantined = row + 1
        self.counters[CT_QUARANTINED + reason] += 1

    # ---- contracts and quotes

    def init_contract(
        self, c: int, symbol: int, name: int, right: int, strike: int, expiry: int, mult: int
    ) -> None:
        for f in range(C_WIDTH):
            self.contracts[c, f] = 0
        self.contracts[c, C_DEFINED] = 1
        self.contracts[c, C_SYMBOL] = symbol
        self.contracts[c, C_NAME] = name
        self.contracts[c, C_RIGHT] = right
        self.contracts[c, C_STRIKE] = strike
        self.contracts[c, C_EXPIRY] = expiry
        self.contracts[c, C_MULTIPLIER] = mult
        self.contracts[c, C_Q_TS] = -1
        self.contracts[c, C_Q_BID] = NULL
        self.contracts[c, C_Q_ASK] = NULL
        self.contracts[c, C_P_TS] = -1
        self.contracts[c, C_P_BID] = NULL
        self.contracts[c, C_P_ASK] = NULL
        self.contracts[c, C_OPEN_INTEREST] = NULL
        self.contracts[c, C_AVG_LIMIT] = UNLIMITED
        self.contracts[c, C_OPEN_BUY] = -1
        self.contracts[c, C_OPEN_SELL] = -1
        self.contracts[c, C_OPEN_UNKNOWN] = -1

    def contract(self, events: Any, i: int) -> int:
        """The event's contract row: known, else learnt from its OCC symbol, else -1
        (quarantined)."""
        c = events[i, I_CONTRACT]
        if self.contracts[c, C_DEFINED]:
            return c
        if events[i, I_SYMBOL] < 0:
            self.quarantine(i, REASON_UNKNOWN_CONTRACT)
            return -1
        self.init_contract(
            c,
            events[i, I_SYMBOL],
            events[i, I_NAME],
            events[i, I_RIGHT],
            events[i, I_STRIKE],
            events[i, I_EXPIRY],
            events[i, I_MULTIPLIER],
        )
        return c

    def define(self, events: Any, i: int) -> None:
        c = events[i, I_CONTRACT]
        if not self.contracts[c, C_DEFINED]:
            self.init_contract(
                c,
                events[i, I_SYMBOL],
                events[i, I_NAME],
                events[i, I_RIGHT],
                events[i, I_STRIKE],
                events[i, I_EXPIRY],
                events[i, I_MULTIPLIER],
            )
            return
        self.contracts[c, C_SYMBOL] = events[i, I_SYMBOL]
        self.contracts[c, C_NAME] = events[i, I_NAME]
        self.contracts[c, C_RIGHT] = events[i, I_RIGHT]
        self.contracts[c, C_STRIKE] = events[i, I_STRIKE]
        self.contracts[c, C_EXPIRY] = events[i, I_EXPIRY]
        self.contracts[c, C_MULTIPLIER] = events[i, I_MULTIPLIER]
        self.contracts[c, C_DTE_DAY] = 0

    def option_quote(self, events: Any, i: int, t: int) -> None:
        c = self.contract(events, i)
        if c < 0:
            return
        q_ts = self.contracts[c, C_Q_TS]
        if t > q_ts:
            self.contracts[c, C_P_TS] = q_ts
            self.contracts[c, C_P_BID] = self.contracts[c, C_Q_BID]
            self.contracts[c, C_P_ASK] = self.contracts[c, C_Q_ASK]
            self.contracts[c, C_P_BID_SZ] = self.contracts[c, C_Q_BID_SZ]
            self.contracts[c, C_P_ASK_SZ] = self.contracts[c, C_Q_ASK_SZ]
            self.contracts[c, C_P_SAMPLED] = self.contracts[c, C_Q_SAMPLED]
        elif t < q_ts:
            # Only the last two quotes are kept, so an older one cannot be slotted in.
            self.counters[CT_QUOTES_LATE_IGNORED] += 1
            return
        self.contracts[c, C_Q_TS] = t
        self.contracts[c, C_Q_BID] = events[i, I_BID]
        self.contracts[c, C_Q_ASK] = events[i, I_ASK]
        self.contracts[c, C_Q_BID_SZ] = events[i, I_BID_SZ]
        self.contracts[c, C_Q_ASK_SZ] = events[i, I_ASK_SZ]
        self.contracts[c, C_Q_SAMPLED] = events[i, I_FLAG]

    # ---- equities: spots, and the dark-pool windows over off-exchange prints

    def equity_quote(self, events: Any, i: int, t: int) -> None:
        """Keep an equity's last usable lit quote (the open windows read it when judged)."""
        bid = events[i, I_BID]
        ask = events[i, I_ASK]
        if bid == NULL or ask == NULL or bid > ask:
            self.counters[CT_EQUITY_QUOTES_UNUSABLE] += 1
            return
        name = events[i, I_NAME]
        held = self.lit[name, E_QUOTE + QF_TS]
        if held != NULL and t < held:
            self.counters[CT_EQUITY_QUOTES_LATE_IGNORED] += 1
            return
        self.lit[name, E_QUOTE + QF_PUBLISHER] = events[i, I_PUBLISHER]
        self.lit[name, E_QUOTE + QF_TS] = t
        self.lit[name, E_QUOTE + QF_BID] = bid
        self.lit[name, E_QUOTE + QF_ASK] = ask
        self.lit[name, E_QUOTES] += 1

    def equity_print(self, events: Any, i: int, t: int, late: int) -> None:
        """Spot for option moneyness; lit prints feed the lit reference, off-exchange prints
        open absorbed-block windows or join an episode."""
        price = events[i, I_PRICE]
        size = events[i, I_SIZE]
        if price <= 0 or size <= 0:
            self.counters[CT_EQUITY_PRINTS_UNUSABLE] += 1
            return
        name = events[i, I_NAME]
        if not events[i, I_FLAG]:
            if late:
                self.counters[CT_EQUITY_PRINTS_LATE_IGNORED] += 1
                return
            self.names[name, N_SPOT] = price
            self.lit[name, E_LIT_PX] = price
            self.lit[name, E_LIT_PRINTS] += 1
            return
        if self.names[name, N_SPOT] == NULL:
            self.names[name, N_SPOT] = price
        if late:
            # A late report cannot join windows that were judged without it.
            self.counters[CT_DARKPOOL_LATE_PRINTS] += 1
            return
        if price >= NOTIONAL_LIMIT // size:
            self.scalars[S_OVERFLOW] = i
            return
        bid = events[i, I_BID]
        ask = events[i, I_ASK]
        if bid == NULL or ask == NULL:
            bid = self.lit[name, E_QUOTE + QF_BID]
            ask = self.lit[name, E_QUOTE + QF_ASK]
            if self.lit[name, E_QUOTE + QF_TS] == NULL:
                bid = ask = NULL
        bucket = BUCKET_NA
        if bid != NULL and ask != NULL and bid <= ask:
            if price > ask:
                bucket = BUCKET_AA
            elif price == ask:
                bucket = BUCKET_A
            elif price < bid:
                bucket = BUCKET_BB
            elif price == bid:
                bucket = BUCKET_B
            else:
                bucket = BUCKET_M
        else:
            bid = ask = NULL
        notional = price * size // 10_000_000
        if size >= self.dark_block_shares or notional >= self.dark_block_notional:
            self.open_block(events, i, t, name, notional, bucket, bid, ask)
            return
        if size < self.dark_episode_shares:
            return
        pos = self.lit[name, E_EPISODE]
        if pos < self.scalars[S_EPISODE_HEAD]:  # judged already (or none yet)
            pos = self.open_episode(name, t)
        e = pos % self.episodes.shape[0]
        m = self.new_dark_member(events, i, bucket, bid, ask)
        if self.episodes[e, EP_MEMBERS] < 0:
            self.episodes[e, EP_MEMBERS] = m
            self.episodes[e, EP_TS_START] = events[i, I_TS_EVENT]
            self.episodes[e, EP_TS_END] = events[i, I_TS_EVENT]
        else:
            self.dark_members[self.episodes[e, EP_MEMBERS_TAIL], M_NEXT] = m
            if events[i, I_TS_EVENT] < self.episodes[e, EP_TS_START]:
                self.episodes[e, EP_TS_START] = events[i, I_TS_EVENT]
            if events[i, I_TS_EVENT] > self.episodes[e, EP_TS_END]:
                self.episodes[e, EP_TS_END] = events[i, I_TS_EVENT]
        self.episodes[e, EP_MEMBERS_TAIL] = m
        self.episodes[e, EP_COUNT] += 1
        self.episodes[e, EP_SIZE] += size
        self.episodes[e, EP_NOTIONAL] += notional
        self.episodes[e, EP_LAST_TS] = t
        if bid != NULL:
            self.episodes[e, EP_PLACED] += 1
            # 2 * price against bid + ask, without forming the sum
            mid = half_sum(bid, ask)
            odd = bid % 2 != ask % 2
            if price > mid or (price == mid and not odd):
                self.episodes[e, EP_ABOVE] += 1
            if price <= mid:
                self.episodes[e, EP_BELOW] += 1

    def reference(self, name: int) -> int:
        """The lit reference price of a name: its quote's mid, else its last lit print (0)."""
        if self.lit[name, E_QUOTE + QF_TS] != NULL:
            return half_sum(self.lit[name, E_QUOTE + QF_BID], self.lit[name, E_QUOTE + QF_ASK])
        return self.lit[name, E_LIT_PX]

    def open_block(
        self, events: Any, i: int, t: int, name: int, notional: int, bucket: int, bid: int,
        ask: int,
    ) -> None:  # fmt: skip
        ref = self.reference(name)
        if ref <= 0:
            self.counters[CT_BLOCKS_WITHOUT_LIT_REFERENCE] += 1
            return
        pos = self.push_window(self.blocks, S_BLOCK_TAIL, t + self.dark_impact_window, B_DEADLINE)
        b = pos % self.blocks.shape[0]
        self.blocks[b, B_NAME] = name
        self.blocks[b, B_TS_RECV] = t
        self.blocks[b, B_MEMBER] = self.new_dark_member(events, i, bucket, bid, ask)
        self.blocks[b, B_NOTIONAL] = notional
        self.blocks[b, B_REF_PX] = ref
        for f in range(4):
            self.blocks[b, B_REF_QUOTE + f] = self.lit[name, E_QUOTE + f]
        self.blocks[b, B_QUOTES] = self.lit[name, E_QUOTES]
        self.blocks[b, B_LIT_PRINTS] = self.lit[name, E_LIT_PRINTS]

    def open_episode(self, name: int, t: int) -> int:
        """A new episode of `name` opening at `t`; its ring position."""
        pos = self.push_window(
            self.episodes, S_EPISODE_TAIL, t + self.dark_episode_window, EP_DEADLINE
        )
        e = pos % self.episodes.shape[0]
        self.episodes[e, EP_NAME] = name
        self.episodes[e, EP_REF_PX] = self.reference(name)
        for f in range(4):
            self.episodes[e, EP_REF_QUOTE + f] = self.lit[name, E_QUOTE + f]
        self.episodes[e, EP_MEMBERS] = -1
        self.episodes[e, EP_MEMBERS_TAIL] = -1
        for f in range(EP_COUNT, EP_LAST_TS + 1):
            self.episodes[e, f] = 0
        self.lit[name, E_EPISODE] = pos
        return pos

    def push_window(self, ring: Any, tail_at: int, deadline: int, deadline_at: int) -> int:
        """A new window at the tail of `ring` (position kept at scalars `tail_at`) closing
        at `deadline` (column `deadline_at`); its ring position."""
        pos = self.scalars[tail_at]
        self.scalars[tail_at] = pos + 1
        ring[pos % ring.shape[0], deadline_at] = deadline
        if deadline < self.dark_deadline:
            self.dark_deadline = deadline
        return pos

    def new_dark_member(self, events: Any, i: int, bucket: int, bid: int, ask: int) -> int:
        return self.new_member(
            self.dark_members, S_DARK_MEMBER_FREE, S_DARK_MEMBERS_USED, events, i, -1,
            SIDE_UNKNOWN, bucket, bid, ask,
        )  # fmt: skip

    def free_dark_members(self, head: int, tail: int) -> None:
        self.dark_members[tail, M_NEXT] = self.scalars[S_DARK_MEMBER_FREE]
        self.scalars[S_DARK_MEMBER_FREE] = head

    def close_dark(self, t: int) -> None:
        """Judge every dark-pool window whose deadline lies before `t`: blocks, then
        episodes, oldest first."""
        while self.scalars[S_BLOCK_HEAD] < self.scalars[S_BLOCK_TAIL]:
            b = self.scalars[S_BLOCK_HEAD] % self.blocks.shape[0]
            if self.blocks[b, B_DEADLINE] >= t:
                break
            self.scalars[S_BLOCK_HEAD] += 1
            self.judge_block(b)
            m = self.blocks[b, B_MEMBER]
            self.free_dark_members(m, m)
        while self.scalars[S_EPISODE_HEAD] < self.scalars[S_EPISODE_TAIL]:
            pos = self.scalars[S_EPISODE_HEAD]
            e = pos % self.episodes.shape[0]
            if self.episodes[e, EP_DEADLINE] >= t:
                break
            self.scalars[S_EPISODE_HEAD] = pos + 1
            self.judge_episode(e)
            self.free_dark_members(self.episodes[e, EP_MEMBERS], self.episodes[e, EP_MEMBERS_TAIL])
        self.refresh_dark_deadline()

    def refresh_dark_deadline(self) -> None:
        deadline = NO_DEADLINE
        if self.scalars[S_BLOCK_HEAD] < self.scalars[S_BLOCK_TAIL]:
            deadline = self.blocks[self.scalars[S_BLOCK_HEAD] % self.blocks.shape[0], B_DEADLINE]
        if self.scalars[S_EPISODE_HEAD] < self.scalars[S_EPISODE_TAIL]:
            e = self.scalars[S_EPISODE_HEAD] % self.episodes.shape[0]
            if self.episodes[e, EP_DEADLINE] < deadline:
                deadline = self.episodes[e, EP_DEADLINE]
        self.dark_deadline = deadline

    def judge_block(self, b: int) -> None:
        """An absorbed block: the lit reference at the window's end stands within the
        impact limit of where it was at the print."""
        name = self.blocks[b, B_NAME]
        # Every usable quote of the name inside the window moved the reference; lit prints
        # did only while no quote had come.
        quoted = self.lit[name, E_QUOTES] != self.blocks[b, B_QUOTES]
        if quoted:
            last_px = half_sum(self.lit[name, E_QUOTE + QF_BID], self.lit[name, E_QUOTE + QF_ASK])
        elif self.lit[name, E_LIT_PRINTS] != self.blocks[b, B_LIT_PRINTS]:
            last_px = self.lit[name, E_LIT_PX]
        else:
            self.counters[CT_BLOCKS_UNOBSERVED] += 1
            return
        impact = self.move_bps(self.blocks[b, B_REF_PX], last_px)
        if impact < 0:
            impact = -impact
        if impact > self.dark_max_impact * FIXED_SCALE or self.scalars[S_OVERFLOW] >= 0:
            return
        m = self.blocks[b, B_MEMBER]
        ts_event = self.dark_members[m, M_TS_EVENT]
        d = self.dark_row(
            DK_ABSORBED_BLOCK, self.blocks[b, B_TS_RECV], name, ts_event, ts_event,
            self.dark_members[m, M_SIZE], self.blocks[b, B_NOTIONAL], 1, impact, quoted,
        )  # fmt: skip
        self.add_quote(d, self.blocks, b, B_REF_QUOTE)
        if quoted:
            self.add_quote(d, self.lit, name, E_QUOTE)
        self.copy_dark_member(m)

    def judge_episode(self, e: int) -> None:
        """Stealth accumulation or distribution: enough prints on one side of the lit mid
        while the lit price moved their way."""
        name = self.episodes[e, EP_NAME]
        n = self.episodes[e, EP_COUNT]
        placed = self.episodes[e, EP_PLACED]
        if n < self.dark_episode_prints or placed == 0:
            return
        ref = self.episodes[e, EP_REF_PX]
        end_px = self.reference(name)
        if ref <= 0 or end_px <= 0:
            self.counters[CT_EPISODES_WITHOUT_LIT_REFERENCE] += 1
            return
        move = self.move_bps(ref, end_px)
        if self.scalars[S_OVERFLOW] >= 0:
            return
        min_move = self.dark_min_move * FIXED_SCALE
        pct = self.dark_side_pct
        if self.episodes[e, EP_ABOVE] * 100 >= pct * placed and move >= min_move:
            kind = DK_STEALTH_ACCUMULATION
        elif self.episodes[e, EP_BELOW] * 100 >= pct * placed and move <= -min_move:
            kind = DK_DISTRIBUTION
        else:
            return
        d = self.dark_row(
            kind, self.episodes[e, EP_LAST_TS], name, self.episodes[e, EP_TS_START],
            self.episodes[e, EP_TS_END], self.episodes[e, EP_SIZE],
            self.episodes[e, EP_NOTIONAL], n, move, 0,
        )  # fmt: skip
        self.add_quote(d, self.episodes, e, EP_REF_QUOTE)
        self.add_quote(d, self.lit, name, E_QUOTE)
        m = self.episodes[e, EP_MEMBERS]
        while m >= 0:
            self.copy_dark_member(m)
            m = self.dark_members[m, M_NEXT]

    def dark_row(
        self, kind: int, ts_recv: int, name: int, ts_start: int, ts_end: int, size: int,
        notional: int, count: int, impact: int, quoted: int,
    ) -> int:  # fmt: skip
        """A new dark-pool output row (no quotes yet; members from the next output member
        row on)."""
        d = self.n_dark
        self.dark_out[d, D_KIND] = kind
        self.dark_out[d, D_TS_RECV] = ts_recv
        self.dark_out[d, D_NAME] = name
        self.dark_out[d, D_TS_START] = ts_start
        self.dark_out[d, D_TS_END] = ts_end
        self.dark_out[d, D_SIZE] = size
        self.dark_out[d, D_NOTIONAL] = notional
        self.dark_out[d, D_COUNT] = count
        self.dark_out[d, D_IMPACT] = impact
        self.dark_out[d, D_QUOTED] = quoted
        self.dark_out[d, D_MEMBERS] = self.n_dark_members
        self.dark_out[d, D_QUOTES] = 0
        self.n_dark = d + 1
        return d

    def add_quote(self, d: int, source: Any, row: int, at: int) -> None:
        """Append the quote at `source[row, at:at + 4]` (if any) to dark row `d`'s quotes,
        unless it repeats the one already there."""
        if source[row, at + QF_TS] == NULL:
            return
        k = self.dark_out[d, D_QUOTES]
        if k == 1:
            same = 1
            for f in range(4):
                if self.dark_out[d, D_QUOTE_1 + f] != source[row, at + f]:
                    same = 0
            if same:
                return
        for f in range(4):
            self.dark_out[d, D_QUOTE_1 + 4 * k + f] = source[row, at + f]
        self.dark_out[d, D_QUOTES] = k + 1

    def copy_dark_member(self, m: int) -> None:
        row = self.n_dark_members
        for f in range(M_WIDTH):
            self.dark_members_out[row, f] = self.dark_members[m, f]
        self.n_dark_members = row + 1

    def move_bps(self, ref: int, to: int) -> int:
        """`fixed_ratio((to - ref) * 10_000, ref)`: the move from `ref` (> 0) to `to` in
        basis points, as a count of 1e-4, divided out without leaving int64; prices beyond
        the range stop the kernel."""
        if ref >= PRICE_LIMIT or to >= PRICE_LIMIT or to <= -PRICE_LIMIT:
            self.scalars[S_OVERFLOW] = self.event
            return 0
        num = to - ref
        negative = num < 0
        if negative:
            num = -num  # half-to-even rounding is symmetric
        q = num // ref
        if q >= RATIO_LIMIT:
            self.scalars[S_OVERFLOW] = self.event
            return 0
        r = num - q * ref
        for _digit_pair in range(4):  # 1e8 = 100 ** 4
            x = r * 100
            digits = x // ref
            r = x - digits * ref
            q = q * 100 + digits
        twice = 2 * r
        if twice > ref or (twice == ref and q % 2 == 1):
            q += 1
        return -q if negative else q

    # ---- days

    def packet_day(self, ts: int) -> int:
        """The New York trading date of an event time (cached; never moves backwards)."""
        if self.scalars[S_DAY_BEGIN] <= ts < self.scalars[S_DAY_END]:
            return self.scalars[S_DAY]
        day, begin, end = self.hooks.day_bounds(ts)
        if ts >= self.scalars[S_DAY_BEGIN]:
            self.scalars[S_DAY] = day
            self.scalars[S_DAY_BEGIN] = begin
            self.scalars[S_DAY_END] = end
        return day

    def day_begin(self, ts: int) -> int:
        """The first nanosecond of the New York day holding `ts` (a cache of its own)."""
        if not (self.held_begin <= ts < self.held_end):
            day, begin, end = self.hooks.day_bounds(ts)
            self.held_begin = begin
            self.held_end = end
        return self.held_begin

    def count_volume(self, c: int, day: int, size: int) -> None:
        """`compute.flow.packets.count_day_volume`: a closed day's late print is not counted."""
        if self.contracts[c, C_VOLUME_DAY] > day:
            return
        if self.contracts[c, C_VOLUME_DAY] != day:
            if self.contracts[c, C_VOLUME_DAY] > 0:  # a day ends: its volume joins the history
                total, days, limit = self.hooks.start_volume_day(
                    c, self.contracts[c, C_VOLUME_DAY], self.contracts[c, C_DAY_VOLUME], day
                )
                self.contracts[c, C_PAST_TOTAL] = total
                self.contracts[c, C_PAST_DAYS] = days
                self.contracts[c, C_AVG_LIMIT] = limit
            self.contracts[c, C_VOLUME_DAY] = day
            self.contracts[c, C_DAY_VOLUME] = 0
        self.contracts[c, C_DAY_VOLUME] += size

    def dte(self, c: int, day: int) -> int:
        if self.contracts[c, C_EXPIRY] == 0:
            return NULL
        if self.contracts[c, C_DTE_DAY] != day:
            self.contracts[c, C_DTE] = self.hooks.trading_days_to(day, self.contracts[c, C_EXPIRY])
            self.contracts[c, C_DTE_DAY] = day
        return self.contracts[c, C_DTE]

    def moneyness(self, c: int, spot: int) -> int:
        strike = self.contracts[c, C_STRIKE]
        if spot == NULL or spot == 0 or strike <= 0:
            return NULL
        if self.contracts[c, C_RIGHT] == RIGHT_CALL:
            return fixed_ratio(spot - strike, spot)
        return fixed_ratio(strike - spot, spot)

    # ---- prints

    def option_print(self, events: Any, i: int, t: int, late: int) -> None:
        c = events[i, I_CONTRACT]
        if not self.contracts[c, C_DEFINED]:
            c = self.contract(events, i)
            if c < 0:
                return
            self.counters[CT_CONTRACTS_FROM_SYMBOL] += 1
        price = events[i, I_PRICE]
        size = events[i, I_SIZE]
        sampled = 0
        if price <= 0 or size <= 0:
            self.quarantine(i, REASON_BAD_PRINT)
            return
        if price >= NOTIONAL_LIMIT // size:
            self.scalars[S_OVERFLOW] = i
            return
        # ---- NBBO in force just before the print
        bid = events[i, I_BID]
        ask = events[i, I_ASK]
        if bid != NULL and ask != NULL:
            status = ST_PRINT
            bid_sz = events[i, I_BID_SZ]
            ask_sz = events[i, I_ASK_SZ]
            quote_ts = NULL
        else:
            if self.contracts[c, C_Q_TS] < t:
                quote_ts = self.contracts[c, C_Q_TS]
                bid = self.contracts[c, C_Q_BID]
                ask = self.contracts[c, C_Q_ASK]
                bid_sz = self.contracts[c, C_Q_BID_SZ]
                ask_sz = self.contracts[c, C_Q_ASK_SZ]
                sampled = self.contracts[c, C_Q_SAMPLED]
            else:
                quote_ts = self.contracts[c, C_P_TS]
                bid = self.contracts[c, C_P_BID]
                ask = self.contracts[c, C_P_ASK]
                bid_sz = self.contracts[c, C_P_BID_SZ]
                ask_sz = self.contracts[c, C_P_ASK_SZ]
                sampled = self.contracts[c, C_P_SAMPLED]
            if quote_ts < 0 or quote_ts >= t:
                status = ST_MISSING
                quote_ts = bid = ask = bid_sz = ask_sz = NULL
            elif bid == NULL or ask == NULL:
                status = ST_MISSING  # one-sided market: no NBBO to place the print in
            elif t - quote_ts <= self.max_age:
                status = ST_JOINED
            elif (
                not sampled
                and quote_ts > self.scalars[S_LAST_GAP_TS]
                and quote_ts >= self.day_begin(t)
            ):
                status = ST_HELD  # a change stream's quote is in force until it changes
            else:
                status = ST_STALE
        used_bid = bid
        used_ask = ask
        if status == ST_STALE or status == ST_MISSING:
            used_bid = used_ask = NULL
        elif used_bid != NULL and used_ask != NULL and used_bid > used_ask:
            status = ST_CROSSED
            used_bid = used_ask = NULL
        # ---- tick state (in-order prints only: a late print is not the last trade)
        tick = self.contracts[c, C_TICK]
        last = self.contracts[c, C_LAST_PRICE]
        if last > 0:
            if price > last:
                tick = 1
            elif price < last:
                tick = -1
        if not late:
            self.contracts[c, C_LAST_PRICE] = price
            self.contracts[c, C_TICK] = tick
        code = infer(price, size, used_bid, used_ask, bid_sz, ask_sz, tick)
        side = inference_side(code)
        p = self.n_prints
        self.prints[O_EVENT, p] = i
        self.prints[O_CONTRACT, p] = c
        self.prints[O_SYMBOL, p] = self.contracts[c, C_SYMBOL]
        self.prints[O_NAME, p] = self.contracts[c, C_NAME]
        self.prints[O_STATUS, p] = status
        self.prints[O_BID, p] = bid
        self.prints[O_ASK, p] = ask
        self.prints[O_BID_SZ, p] = bid_sz
        self.prints[O_ASK_SZ, p] = ask_sz
        self.prints[O_QUOTE_TS, p] = quote_ts
        self.prints[O_INFERENCE, p] = code
        self.prints[O_LATE, p] = late
        self.prints[O_INSTRUMENT, p] = events[i, I_INSTRUMENT]
        self.prints[O_PUBLISHER, p] = events[i, I_PUBLISHER]
        self.prints[O_TS_EVENT, p] = events[i, I_TS_EVENT]
        self.prints[O_SEQUENCE, p] = events[i, I_SEQUENCE]
        self.prints[O_PRICE, p] = price
        self.prints[O_SIZE, p] = size
        self.n_prints = p + 1
        m = self.new_member(
            self.members,
            S_MEMBER_FREE,
            S_MEMBERS_USED,
            events,
            i,
            c,
            side,
            inference_bucket(code),
            used_bid,
            used_ask,
        )
        if late:
            slot = self.new_packet(c, self.contracts[c, C_NAME], side, t, events[i, I_TS_EVENT], m)
            self.packets[slot, P_LATE] = 1
            self.packets[slot, P_DEADLINE] = t
            self.emit_single(slot)
            self.free_packet(slot)
            return
        if side == SIDE_BUY:
            slot = self.contracts[c, C_OPEN_BUY]
        elif side == SIDE_SELL:
            slot = self.contracts[c, C_OPEN_SELL]
        else:
            slot = self.contracts[c, C_OPEN_UNKNOWN]
            if slot < 0:
                # A print the rules cannot sign joins the open packet of its contract.
                buy = self.contracts[c, C_OPEN_BUY]
                sell = self.contracts[c, C_OPEN_SELL]
                if buy >= 0 and (
                    sell < 0 or self.packets[buy, P_SERIAL] > self.packets[sell, P_SERIAL]
                ):
                    slot = buy
                else:
                    slot = sell
        if slot >= 0:
            self.members[self.packets[slot, P_MEMBERS_TAIL], M_NEXT] = m
            self.packets[slot, P_MEMBERS_TAIL] = m
            self.packets[slot, P_COUNT] += 1
            self.packets[slot, P_LAST_TS] = t
        else:
            self.open_packet(c, side, t, events[i, I_TS_EVENT], m)

    def new_member(
        self, members: Any, free_at: int, used_at: int, events: Any, i: int, c: int,
        side: int, bucket: int, bid: int, ask: int,
    ) -> int:  # fmt: skip
        """A row of a member pool (its free-list head and high-water mark at scalars
        `free_at` and `used_at`) holding event `i` as a member print."""
        m = self.scalars[free_at]
        if m >= 0:
            self.scalars[free_at] = members[m, M_NEXT]
        else:
            m = self.scalars[used_at]
            self.scalars[used_at] = m + 1
        members[m, M_INSTRUMENT] = events[i, I_INSTRUMENT]
        members[m, M_PUBLISHER] = events[i, I_PUBLISHER]
        members[m, M_TS_EVENT] = events[i, I_TS_EVENT]
        members[m, M_SEQUENCE] = events[i, I_SEQUENCE]
        members[m, M_PRICE] = events[i, I_PRICE]
        members[m, M_SIZE] = events[i, I_SIZE]
        members[m, M_SIDE] = side
        members[m, M_BUCKET] = bucket
        members[m, M_BID] = bid
        members[m, M_ASK] = ask
        members[m, M_CONTRACT] = c
        members[m, M_NEXT] = -1
        return m

    # ---- packets

    def new_packet(self, c: int, name: int, side: int, t: int, ts_event: int, m: int) -> int:
        slot = self.scalars[S_PACKET_FREE]
        if slot >= 0:
            self.scalars[S_PACKET_FREE] = self.packets[slot, P_NEXT]
        else:
            slot = self.scalars[S_PACKETS_USED]
            self.scalars[S_PACKETS_USED] = slot + 1
        self.packets[slot, P_STATE] = PS_OPEN
        self.packets[slot, P_SERIAL] = -1
        self.packets[slot, P_CONTRACT] = c
        self.packets[slot, P_NAME] = name
        self.packets[slot, P_SIDE] = side
        self.packets[slot, P_FIRST_TS] = t
        self.packets[slot, P_FIRST_TS_EVENT] = ts_event
        self.packets[slot, P_DEADLINE] = t + self.cluster_window
        self.packets[slot, P_LAST_TS] = t
        self.packets[slot, P_GROUP] = -1
        self.packets[slot, P_MEMBERS] = m
        self.packets[slot, P_MEMBERS_TAIL] = m
        self.packets[slot, P_COUNT] = 1
        self.packets[slot, P_LATE] = 0
        self.packets[slot, P_NEXT] = -1
        self.packets[slot, P_GROUP_OPEN] = 0
        self.packets[slot, P_GROUP_HEAD] = -1
        self.packets[slot, P_GROUP_TAIL] = -1
        return slot

    def free_packet(self, slot: int) -> None:
        """Return a packet's slot and its member rows to their free lists."""
        m = self.packets[slot, P_MEMBERS]
        tail = self.packets[slot, P_MEMBERS_TAIL]
        self.members[tail, M_NEXT] = self.scalars[S_MEMBER_FREE]
        self.scalars[S_MEMBER_FREE] = m
        self.packets[slot, P_STATE] = PS_FREE
        self.packets[slot, P_NEXT] = self.scalars[S_PACKET_FREE]
        self.scalars[S_PACKET_FREE] = slot

    def open_packet(self, c: int, side: int, t: int, ts_event: int, m: int) -> None:
        name = self.contracts[c, C_NAME]
        slot = self.new_packet(c, name, side, t, ts_event, m)
        serial = self.scalars[S_NEXT_SERIAL]
        self.scalars[S_NEXT_SERIAL] = serial + 1
        self.packets[slot, P_SERIAL] = serial
        tail = self.scalars[S_FIFO_TAIL]
        self.fifo[tail % self.fifo.shape[0]] = slot
        self.scalars[S_FIFO_TAIL] = tail + 1
        if side == SIDE_BUY:
            self.contracts[c, C_OPEN_BUY] = slot
        elif side == SIDE_SELL:
            self.contracts[c, C_OPEN_SELL] = slot
        else:
            self.contracts[c, C_OPEN_UNKNOWN] = slot
        # Legs of one complex order print at the same moment on the same underlying (receive
        # times: the feed delivers legs together, venue timestamps of legs jitter apart).
        anchor_serial = self.names[name, N_ANCHOR_SERIAL]
        anchor_slot = self.names[name, N_ANCHOR_SLOT]
        if (
            anchor_serial >= 0
            and t - self.names[name, N_ANCHOR_TS] <= self.sync_window
            and self.packets[anchor_slot, P_STATE] == PS_OPEN
            and self.packets[anchor_slot, P_SERIAL] == anchor_serial
        ):
            group = self.names[name, N_ANCHOR_GROUP]
            if group < 0:
                group = anchor_slot
                self.packets[group, P_GROUP_OPEN] = 2
                self.packets[group, P_GROUP_HEAD] = -1
                self.packets[group, P_GROUP_TAIL] = -1
                self.packets[anchor_slot, P_GROUP] = group
                self.names[name, N_ANCHOR_GROUP] = group
            else:
                self.packets[group, P_GROUP_OPEN] += 1
            self.packets[slot, P_GROUP] = group
        else:  # a new moment: this packet anchors it
            self.names[name, N_ANCHOR_TS] = t
            self.names[name, N_ANCHOR_SERIAL] = serial
            self.names[name, N_ANCHOR_SLOT] = slot
            self.names[name, N_ANCHOR_GROUP] = -1

    def close_packets(self, t: int) -> None:
        """Close every open packet whose window ended before `t` (oldest first)."""
        capacity = self.fifo.shape[0]
        head = self.scalars[S_FIFO_HEAD]
        while head < self.scalars[S_FIFO_TAIL]:
            slot = self.fifo[head % capacity]
            if self.packets[slot, P_DEADLINE] >= t:
                break
            head += 1
            self.scalars[S_FIFO_HEAD] = head
            c = self.packets[slot, P_CONTRACT]
            side = self.packets[slot, P_SIDE]
            if side == SIDE_BUY:
                self.contracts[c, C_OPEN_BUY] = -1
            elif side == SIDE_SELL:
                self.contracts[c, C_OPEN_SELL] = -1
            else:
                self.contracts[c, C_OPEN_UNKNOWN] = -1
            group = self.packets[slot, P_GROUP]
            if group < 0:
                self.emit_single(slot)
                self.free_packet(slot)
                continue
            self.packets[slot, P_STATE] = PS_WAITING
            self.packets[slot, P_NEXT] = -1
            if self.packets[group, P_GROUP_TAIL] >= 0:
                self.packets[self.packets[group, P_GROUP_TAIL], P_NEXT] = slot
            else:
                self.packets[group, P_GROUP_HEAD] = slot
            self.packets[group, P_GROUP_TAIL] = slot
            self.packets[group, P_GROUP_OPEN] -= 1
            if self.packets[group, P_GROUP_OPEN] == 0:
                self.emit_group(group)

    # ---- moments: packets of one underlying that opened together

    def emit_group(self, group: int) -> None:
        """Emit a closed moment: each set of parts joined by shared venues is one order."""
        n = 0
        slot = self.packets[group, P_GROUP_HEAD]
        while slot >= 0:
            self.scratch_parts[n] = slot
            self.scratch_roots[n] = n
            n += 1
            slot = self.packets[slot, P_NEXT]
        for k in range(n):
            m = self.packets[self.scratch_parts[k], P_MEMBERS]
            while m >= 0:
                venue = self.members[m, M_PUBLISHER]
                first = self.scratch_venues[venue]
                if first < 0:
                    self.scratch_venues[venue] = k
                else:
                    a = self.find(k)
                    b = self.find(first)
                    if a != b:
                        if a < b:
                            self.scratch_roots[b] = a
                        else:
                            self.scratch_roots[a] = b
                m = self.members[m, M_NEXT]
        for k in range(n):  # reset the venue scratch for the next moment
            m = self.packets[self.scratch_parts[k], P_MEMBERS]
            while m >= 0:
                self.scratch_venues[self.members[m, M_PUBLISHER]] = -1
                m = self.members[m, M_NEXT]
        for k in range(n):
            self.scratch_roots[k] = self.find(k)
        # orders in the order of their first part; `order` lists one order's parts
        for k in range(n):
            if self.scratch_roots[k] != k:
                continue
            count = 0
            for j in range(k, n):
                if self.scratch_roots[j] == k:
                    self.scratch_order[count] = self.scratch_parts[j]
                    count += 1
            self.emit_order(count)
        for k in range(n):
            self.free_packet(self.scratch_parts[k])

    def find(self, k: int) -> int:
        while self.scratch_roots[k] != k:
            self.scratch_roots[k] = self.scratch_roots[self.scratch_roots[k]]
            k = self.scratch_roots[k]
        return k

    def emit_order(self, count: int) -> None:
        """One order of `count` parts (in `scratch_order`): a multi-leg packet if it forms
        one, else each part on its own."""
        if count == 1:
            self.emit_single(self.scratch_order[0])
            return
        n_legs = 0
        for k in range(count):
            c = self.packets[self.scratch_order[k], P_CONTRACT]
            if self.scratch_sizes[c] == 0:
                n_legs += 1
            m = self.packets[self.scratch_order[k], P_MEMBERS]
            while m >= 0:
                self.scratch_sizes[c] += self.members[m, M_SIZE]
                m = self.members[m, M_NEXT]
        smallest = 0
        largest = 0
        for k in range(count):
            c = self.packets[self.scratch_order[k], P_CONTRACT]
            if self.scratch_sizes[c] > largest:
                largest = self.scratch_sizes[c]
            if smallest == 0 or self.scratch_sizes[c] < smallest:
                smallest = self.scratch_sizes[c]
        for k in range(count):
            self.scratch_sizes[self.packets[self.scratch_order[k], P_CONTRACT]] = 0
        if 2 <= n_legs <= self.max_legs and largest <= self.max_ratio * smallest:
            self.emit_multi_leg(count)
        else:
            for k in range(count):
                self.emit_single(self.scratch_order[k])

    # ---- emitting

    def copy_member(self, m: int) -> None:
        row = self.n_members
        for f in range(M_WIDTH):
            self.members_out[row, f] = self.members[m, f]
        self.n_members = row + 1

    def emit_single(self, slot: int) -> None:
        """Emit one closed (contract, side) packet: single, block, split or sweep."""
        c = self.packets[slot, P_CONTRACT]
        name = self.packets[slot, P_NAME]
        n = self.packets[slot, P_COUNT]
        late = self.packets[slot, P_LATE]
        q = self.n_packets
        for b in range(6):
            self.packets_out[q, Q_BUCKETS + b] = 0
        spread_bps = -1
        head = self.packets[slot, P_MEMBERS]
        ts_start = self.members[head, M_TS_EVENT]
        ts_end = ts_start
        size = 0
        notional = 0
        buy = 0
        sell = 0
        venues = 0
        levels = 0
        m = head
        while m >= 0:
            msize = self.members[m, M_SIZE]
            price = self.members[m, M_PRICE]
            size += msize
            notional += price * msize
            if notional >= NOTIONAL_LIMIT:
                self.scalars[S_OVERFLOW] = self.event
                return
            if self.members[m, M_SIDE] == SIDE_BUY:
                buy += msize
            elif self.members[m, M_SIDE] == SIDE_SELL:
                sell += msize
            self.packets_out[q, Q_BUCKETS + self.members[m, M_BUCKET]] += 1
            ts = self.members[m, M_TS_EVENT]
            if ts < ts_start:
                ts_start = ts
            elif ts > ts_end:
                ts_end = ts
            if spread_bps < 0:
                bid = self.members[m, M_BID]
                ask = self.members[m, M_ASK]
                if bid != NULL and ask != NULL and bid + ask > 0:
                    spread_bps = (ask - bid) * 20_000 // (bid + ask)
            # distinct venues and prices among the members so far
            new_venue = 1
            new_price = 1
            k = head
            while k != m:
                if self.members[k, M_PUBLISHER] == self.members[m, M_PUBLISHER]:
                    new_venue = 0
                if self.members[k, M_PRICE] == price:
                    new_price = 0
                k = self.members[k, M_NEXT]
            venues += new_venue
            levels += new_price
            m = self.members[m, M_NEXT]
        premium = self.premium(notional, self.contracts[c, C_MULTIPLIER])
        first_ts = self.packets[slot, P_FIRST_TS]
        day = self.packet_day(first_ts)
        self.count_volume(c, day, size)
        spot = self.names[name, N_SPOT]
        if buy > sell:
            side = SIDE_BUY
        elif sell > buy:
            side = SIDE_SELL
        else:
            side = SIDE_UNKNOWN
        if n == 1:
            if size >= self.block_min_size or premium >= self.block_min_premium:
                kind = PK_BLOCK
            else:
                kind = PK_SINGLE
        elif venues >= 2:
            kind = PK_SWEEP
        else:
            kind = PK_SPLIT
        fast = (
            self.names[name, N_BASE_EXISTS]
            and first_ts - self.names[name, N_BASE_LAST_TS] <= self.ttl
            and (kind == PK_SINGLE or kind == PK_SPLIT)
            and premium < self.spike_min_premium
            and n < self.repeated_min_prints
            and (
                self.contracts[c, C_UNUSUAL_DAY] == day
                or self.contracts[c, C_DAY_VOLUME] <= self.contracts[c, C_AVG_LIMIT]
                and (
                    self.contracts[c, C_OPEN_INTEREST] == NULL
                    or self.contracts[c, C_DAY_VOLUME] <= self.contracts[c, C_OPEN_INTEREST]
                )
            )
            and not late
        )
        # A lone single no rule reads is only written out on request: the tables do not
        # store such a packet, only its print's inference.
        quiet = fast and n == 1 and kind == PK_SINGLE and not self.full_outputs
        if quiet:
            self.n_quiet_singles += 1
        else:
            self.write_packet(
                q, kind, self.packets[slot, P_LAST_TS], name, ts_start, ts_end, side, premium,
                size, n, levels, buy, sell, spot, late,
            )  # fmt: skip
            self.packets_out[q, Q_MEMBERS] = self.n_members
            m = head
            while m >= 0:
                self.copy_member(m)
                m = self.members[m, M_NEXT]
            self.packets_out[q, Q_LEGS] = self.n_legs
            self.packets_out[q, Q_LEG_COUNT] = 1
            self.write_leg(
                c, self.members[head, M_INSTRUMENT], side, size, premium, n, notional, 1, day, spot
            )
        if fast:
            # Most packets: no rule can fire; the baselines learn.
            if first_ts > self.names[name, N_BASE_LAST_TS]:
                self.names[name, N_BASE_LAST_TS] = first_ts
            self.push_samples(name, premium, size, spread_bps)
            return
        self.score(q, name, first_ts, day, spread_bps, premium, size, late)

    def write_packet(
        self, q: int, kind: int, ts_recv: int, name: int, ts_start: int, ts_end: int,
        side: int, premium: int, size: int, n: int, levels: int, buy: int, sell: int,
        spot: int, late: int,
    ) -> None:  # fmt: skip
        """Output packet row `q`, its bucket counts written already; no score yet."""
        self.packets_out[q, Q_KIND] = kind
        self.packets_out[q, Q_TS_RECV] = ts_recv
        self.packets_out[q, Q_NAME] = name
        self.packets_out[q, Q_TS_START] = ts_start
        self.packets_out[q, Q_TS_END] = ts_end
        self.packets_out[q, Q_SIDE] = side
        self.packets_out[q, Q_PREMIUM] = premium
        self.packets_out[q, Q_SIZE] = size
        self.packets_out[q, Q_COUNT] = n
        self.packets_out[q, Q_LEVELS] = levels
        self.packets_out[q, Q_BUY] = buy
        self.packets_out[q, Q_SELL] = sell
        self.packets_out[q, Q_COVERED] = n - self.packets_out[q, Q_BUCKETS + BUCKET_NA]
        self.packets_out[q, Q_SPOT] = spot
        self.packets_out[q, Q_LATE] = late
        self.packets_out[q, Q_SCORE] = -1
        self.n_packets = q + 1

    def premium(self, notional: int, multiplier: int) -> int:
        """`notional * multiplier // PREMIUM_DIVISOR` without forming the product."""
        whole = notional // PREMIUM_DIVISOR
        rest = notional - whole * PREMIUM_DIVISOR
        return whole * multiplier + rest * multiplier // PREMIUM_DIVISOR

    def write_leg(
        self,
        c: int,
        instrument: int,
        side: int,
        size: int,
        premium: int,
        n: int,
        notional: int,
        ratio: int,
        day: int,
        spot: int,
    ) -> None:
        k = self.n_legs
        self.legs_out[k, L_CONTRACT] = c
        self.legs_out[k, L_INSTRUMENT] = instrument
        self.legs_out[k, L_SYMBOL] = self.contracts[c, C_SYMBOL]
        self.legs_out[k, L_RIGHT] = self.contracts[c, C_RIGHT]
        self.legs_out[k, L_STRIKE] = self.contracts[c, C_STRIKE]
        self.legs_out[k, L_EXPIRY] = self.contracts[c, C_EXPIRY]
        self.legs_out[k, L_SIDE] = side
        self.legs_out[k, L_SIZE] = size
        self.legs_out[k, L_PREMIUM] = premium
        self.legs_out[k, L_COUNT] = n
        self.legs_out[k, L_VWAP] = notional // size if size else 0
        self.legs_out[k, L_RATIO] = ratio
        self.legs_out[k, L_MONEYNESS] = self.moneyness(c, spot)
        self.legs_out[k, L_DTE] = self.dte(c, day)
        self.legs_out[k, L_DAY_VOLUME] = self.contracts[c, C_DAY_VOLUME]
        self.legs_out[k, L_OPEN_INTEREST] = self.contracts[c, C_OPEN_INTEREST]
        self.n_legs = k + 1

    def emit_multi_leg(self, count: int) -> None:
        """The parts in `scratch_order` as one multi-leg packet."""
        q = self.n_packets
        first_member = self.n_members
        first_leg = self.n_legs
        first = self.scratch_order[0]
        name = self.packets[first, P_NAME]
        day = self.packet_day(self.packets[first, P_FIRST_TS])
        for b in range(6):
            self.packets_out[q, Q_BUCKETS + b] = 0
        ts_recv = self.packets[first, P_LAST_TS]
        head = self.packets[first, P_MEMBERS]
        ts_start = self.members[head, M_TS_EVENT]
        ts_end = ts_start
        size = 0
        buy = 0
        sell = 0
        n = 0
        levels = 0
        spread_bps = -1
        # legs in order of first appearance: contract, size, notional, prints, buy, sell
        n_legs = 0
        for k in range(count):
            slot = self.scratch_order[k]
            if self.packets[slot, P_LAST_TS] > ts_recv:
                ts_recv = self.packets[slot, P_LAST_TS]
            m = self.packets[slot, P_MEMBERS]
            while m >= 0:
                c = self.members[m, M_CONTRACT]
                leg = self.scratch_legs[c] - 1
                if leg < 0:
                    leg = n_legs
                    n_legs += 1
                    self.scratch_legs[c] = leg + 1
                    self.scratch_leg_rows[leg, 0] = c
                    self.scratch_leg_rows[leg, 1] = self.members[m, M_INSTRUMENT]
                    for f in range(2, 7):
                        self.scratch_leg_rows[leg, f] = 0
                msize = self.members[m, M_SIZE]
                price = self.members[m, M_PRICE]
                self.scratch_leg_rows[leg, 2] += msize
                self.scratch_leg_rows[leg, 3] += price * msize
                if self.scratch_leg_rows[leg, 3] >= NOTIONAL_LIMIT:
                    self.scalars[S_OVERFLOW] = self.event
                    return
                self.scratch_leg_rows[leg, 4] += 1
                size += msize
                if self.members[m, M_SIDE] == SIDE_BUY:
                    buy += msize
                    self.scratch_leg_rows[leg, 5] += msize
                elif self.members[m, M_SIDE] == SIDE_SELL:
                    sell += msize
                    self.scratch_leg_rows[leg, 6] += msize
                self.packets_out[q, Q_BUCKETS + self.members[m, M_BUCKET]] += 1
                ts = self.members[m, M_TS_EVENT]
                if ts < ts_start:
                    ts_start = ts
                elif ts > ts_end:
                    ts_end = ts
                if spread_bps < 0:
                    bid = self.members[m, M_BID]
                    ask = self.members[m, M_ASK]
                    if bid != NULL and ask != NULL and bid + ask > 0:
                        spread_bps = (ask - bid) * 20_000 // (bid + ask)
                # distinct (contract, price) levels among the order's members so far
                new_level = 1
                for j in range(first_member, self.n_members):
                    if (
                        self.members_out[j, M_CONTRACT] == c
                        and self.members_out[j, M_PRICE] == price
                    ):
                        new_level = 0
                        break
                levels += new_level
                self.copy_member(m)
                n += 1
                m = self.members[m, M_NEXT]
        ratio_unit = 0
        for leg in range(n_legs):
            ratio_unit = gcd(ratio_unit, self.scratch_leg_rows[leg, 2])
        premium = 0
        leg_side = -1
        for leg in range(n_legs):
            c = self.scratch_leg_rows[leg, 0]
            self.scratch_legs[c] = 0
            leg_premium = self.premium(
                self.scratch_leg_rows[leg, 3], self.contracts[c, C_MULTIPLIER]
            )
            premium += leg_premium
            self.count_volume(c, day, self.scratch_leg_rows[leg, 2])
            if self.scratch_leg_rows[leg, 5] > self.scratch_leg_rows[leg, 6]:
                side = SIDE_BUY
            elif self.scratch_leg_rows[leg, 6] > self.scratch_leg_rows[leg, 5]:
                side = SIDE_SELL
            else:
                side = SIDE_UNKNOWN
            if leg_side == -1:
                leg_side = side
            elif leg_side != side:
                leg_side = SIDE_MIXED
            ratio = self.scratch_leg_rows[leg, 2] // ratio_unit if ratio_unit else 0
            self.write_leg(
                c,
                self.scratch_leg_rows[leg, 1],
                side,
                self.scratch_leg_rows[leg, 2],
                leg_premium,
                self.scratch_leg_rows[leg, 4],
                self.scratch_leg_rows[leg, 3],
                ratio,
                day,
                self.names[self.contracts[c, C_NAME], N_SPOT],
            )
        self.write_packet(
            q, PK_MULTI_LEG, ts_recv, name, ts_start, ts_end, leg_side, premium, size, n, levels,
            buy, sell, self.names[name, N_SPOT], self.packets[first, P_LATE],
        )  # fmt: skip
        self.packets_out[q, Q_MEMBERS] = first_member
        self.packets_out[q, Q_LEGS] = first_leg
        self.packets_out[q, Q_LEG_COUNT] = n_legs
        self.score(
            q, name, self.packets[first, P_FIRST_TS], day, spread_bps, premium, size,
            self.packets[first, P_LATE],
        )  # fmt: skip

    # ---- baselines and the classifiers' inputs

    def push_samples(self, name: int, premium: int, size: int, spread_bps: int) -> None:
        window = self.window
        length = self.names[name, N_BASE_LEN]
        if length < window:
            pos = length
            self.names[name, N_BASE_LEN] = length + 1
        else:
            pos = self.names[name, N_BASE_POS]
            self.add_sample(name, N_P_SUM, self.premium_ring[name, pos], -1)
            self.add_sample(name, N_S_SUM, self.size_ring[name, pos], -1)
            self.names[name, N_BASE_POS] = (pos + 1) % window
        self.premium_ring[name, pos] = premium
        self.size_ring[name, pos] = size
        self.add_sample(name, N_P_SUM, premium, 1)
        self.add_sample(name, N_S_SUM, size, 1)
        if spread_bps >= 0:
            length = self.names[name, N_SPREAD_LEN]
            if length < window:
                self.spread_ring[name, length] = spread_bps
                self.names[name, N_SPREAD_LEN] = length + 1
            else:
                pos = self.names[name, N_SPREAD_POS]
                self.spread_ring[name, pos] = spread_bps
                self.names[name, N_SPREAD_POS] = (pos + 1) % window

    def reset_baselines(self, name: int) -> None:
        self.names[name, N_BASE_LEN] = 0
        self.names[name, N_BASE_POS] = 0
        self.names[name, N_SPREAD_LEN] = 0
        self.names[name, N_SPREAD_POS] = 0
        for k in range(4):
            self.names[name, N_P_SUM + k] = 0
            self.names[name, N_S_SUM + k] = 0

    def add_sample(self, name: int, at: int, x: int, sign: int) -> None:
        """Add (`sign` 1) or remove (-1) a sample from a ring's sums at columns `at`..: the
        sum, and the square as limbs (x = a * LIMB + b: a*a, 2*a*b, b*b), exact in int64."""
        if x >= LIMB * LIMB:
            self.scalars[S_OVERFLOW] = self.event
            return
        a = x >> 24  # x // LIMB (x >= 0)
        b = x & (LIMB - 1)
        self.names[name, at] += sign * x
        self.names[name, at + 1] += sign * a * a
        self.names[name, at + 2] += sign * 2 * a * b
        self.names[name, at + 3] += sign * b * b

    def score(
        self,
        q: int,
        name: int,
        first_ts: int,
        day: int,
        spread_bps: int,
        premium: int,
        size: int,
        late: int,
    ) -> None:
        """What the classifiers read of the state (baselines before this packet, unusual
        volume), then the state changes scoring makes."""
        if not self.names[name, N_BASE_EXISTS]:
            self.names[name, N_BASE_EXISTS] = 1
            self.names[name, N_BASE_LAST_TS] = first_ts
            self.reset_baselines(name)
        elif first_ts - self.names[name, N_BASE_LAST_TS] > self.ttl:
            # Expiry is measured in event time, so a replay expires exactly where live did.
            self.reset_baselines(name)
        if first_ts > self.names[name, N_BASE_LAST_TS]:
            self.names[name, N_BASE_LAST_TS] = first_ts
        r = self.n_scores
        first_leg = self.packets_out[q, Q_LEGS]
        n_legs = self.packets_out[q, Q_LEG_COUNT]
        self.scores[r, R_PACKET] = q
        self.scores[r, R_DAY] = day
        self.scores[r, R_SPREAD_BPS] = spread_bps
        self.scores[r, R_FIRST_OPEN_INTEREST] = self.contracts[
            self.legs_out[first_leg, L_CONTRACT], C_OPEN_INTEREST
        ]
        self.scores[r, R_N] = self.names[name, N_BASE_LEN]
        for k in range(4):
            self.scores[r, R_P_SUM + k] = self.names[name, N_P_SUM + k]
            self.scores[r, R_S_SUM + k] = self.names[name, N_S_SUM + k]
        self.scores[r, R_UNUSUAL] = 0
        for leg in range(first_leg, first_leg + n_legs):
            c = self.legs_out[leg, L_CONTRACT]
            # Once per contract and day: the packet whose volume makes the day unusual.
            if self.contracts[c, C_UNUSUAL_DAY] == day:
                continue
            volume = self.contracts[c, C_DAY_VOLUME]
            oi = self.contracts[c, C_OPEN_INTEREST]
            if (oi != NULL and volume > oi) or volume > self.contracts[c, C_AVG_LIMIT]:
                self.contracts[c, C_UNUSUAL_DAY] = day
                self.scores[r, R_UNUSUAL] = 1
                self.scores[r, R_U_VOLUME] = volume
                self.scores[r, R_U_OPEN_INTEREST] = oi
                self.scores[r, R_U_PAST_TOTAL] = self.contracts[c, C_PAST_TOTAL]
                self.scores[r, R_U_PAST_DAYS] = self.contracts[c, C_PAST_DAYS]
                self.scores[r, R_U_AVG_LIMIT] = self.contracts[c, C_AVG_LIMIT]
                break
        self.packets_out[q, Q_SCORE] = r
        self.n_scores = r + 1
        if not late:
            self.push_samples(name, premium, size, spread_bps)
