"""The flow kernel's array layout: one named offset per column of every state and output array.

Every array is a C-contiguous int64 matrix, one row per item; `NULL` stands for a missing
value (a one-sided quote, an unknown open interest, no spot). Rows of `packets` and
`members` are pools with free lists; `fifo` holds open packet slots in the order they
opened, which is the order they close (windows have one length); dark-pool blocks and
episodes are rings for the same reason, their member rows a pool of their own. Bump `LAYOUT_VERSION`
whenever an offset or a meaning changes: a checkpoint of another version is refused.
"""

from __future__ import annotations

from typing import Final

LAYOUT_VERSION: Final = 4
NULL: Final = -(2**63)
NO_DEADLINE: Final = 2**63 - 1
UNLIMITED: Final = 2**63 - 1

# ---- input: one micro-batch, one row per event (kind codes)
K_OPTION_PRINT: Final = 0
K_OPTION_QUOTE: Final = 1
K_EQUITY_PRINT: Final = 2
K_EQUITY_QUOTE: Final = 3
K_CONTRACT: Final = 4
K_OPEN_INTEREST: Final = 5
K_HEARTBEAT: Final = 6
K_GAP: Final = 7
K_SKIP: Final = 8  # quarantined upstream already: no effect at all
K_NOT_RAW: Final = 9  # not a raw event: quarantined here

# input columns
I_KIND: Final = 0
I_TS_RECV: Final = 1
I_TS_EVENT: Final = 2
I_PUBLISHER: Final = 3
I_INSTRUMENT: Final = 4
I_SEQUENCE: Final = 5
I_CONTRACT: Final = 6  # dense contract row, -1 for events of no contract
I_PRICE: Final = 7  # print price; open interest for K_OPEN_INTEREST
I_SIZE: Final = 8
I_BID: Final = 9
I_ASK: Final = 10
I_BID_SZ: Final = 11
I_ASK_SZ: Final = 12
I_FLAG: Final = 13  # quote sampled / equity print off-exchange
I_NAME: Final = 14  # equity symbol, or the underlying a contract event names (-1: none)
I_SYMBOL: Final = 15  # contract symbol (interned), -1: no usable contract terms on the event
I_RIGHT: Final = 16
I_STRIKE: Final = 17
I_EXPIRY: Final = 18  # YYYYMMDD, 0 unknown
I_MULTIPLIER: Final = 19
I_WIDTH: Final = 20

# ---- contracts: one row per option contract
C_DEFINED: Final = 0
C_SYMBOL: Final = 1
C_NAME: Final = 2  # underlying
C_RIGHT: Final = 3  # RIGHT_CALL / RIGHT_PUT / RIGHT_OTHER
C_STRIKE: Final = 4
C_EXPIRY: Final = 5
C_MULTIPLIER: Final = 6
C_Q_TS: Final = 7  # the latest quote
C_Q_BID: Final = 8
C_Q_ASK: Final = 9
C_Q_BID_SZ: Final = 10
C_Q_ASK_SZ: Final = 11
C_Q_SAMPLED: Final = 12
C_P_TS: Final = 13  # the quote before it
C_P_BID: Final = 14
C_P_ASK: Final = 15
C_P_BID_SZ: Final = 16
C_P_ASK_SZ: Final = 17
C_P_SAMPLED: Final = 18
C_LAST_PRICE: Final = 19
C_TICK: Final = 20
C_OPEN_INTEREST: Final = 21
C_VOLUME_DAY: Final = 22  # YYYYMMDD whose volume `C_DAY_VOLUME` counts
C_DAY_VOLUME: Final = 23
C_UNUSUAL_DAY: Final = 24
C_PAST_TOTAL: Final = 25  # sum of the kept past daily volumes
C_PAST_DAYS: Final = 26  # how many are kept
C_AVG_LIMIT: Final = 27  # day volume above which today is unusual
C_DTE_DAY: Final = 28  # cache: sessions to expiry counted from this day
C_DTE: Final = 29
C_OPEN_BUY: Final = 30  # open packet slot per side, -1 none
C_OPEN_SELL: Final = 31
C_OPEN_UNKNOWN: Final = 32
C_WIDTH: Final = 33

RIGHT_CALL: Final = 0
RIGHT_PUT: Final = 1
RIGHT_OTHER: Final = 2

# ---- names: underlyings and equity symbols share one registry
N_SPOT: Final = 0
N_ANCHOR_TS: Final = 1
N_ANCHOR_SERIAL: Final = 2  # -1: no anchor
N_ANCHOR_SLOT: Final = 3
N_ANCHOR_GROUP: Final = 4  # slot of the group's first packet, -1: none
N_BASE_EXISTS: Final = 5
N_BASE_LAST_TS: Final = 6
N_BASE_LEN: Final = 7  # samples in the premium and size rings (they move together)
N_BASE_POS: Final = 8
N_SPREAD_LEN: Final = 9
N_SPREAD_POS: Final = 10
N_P_SUM: Final = 11  # the premium ring's sum, and its sum of squares in 2^24 limbs (hi, mid,
N_P_SQ_HI: Final = 12  # lo), kept as samples come and go
N_P_SQ_MID: Final = 13
N_P_SQ_LO: Final = 14
N_S_SUM: Final = 15  # the size ring's, alike
N_S_SQ_HI: Final = 16
N_S_SQ_MID: Final = 17
N_S_SQ_LO: Final = 18
N_WIDTH: Final = 19
# rings: `premium_ring`, `size_ring`, `spread_ring`, each [names, rolling_window_size]

# ---- a lit quote inside a row: four columns from its offset
QF_PUBLISHER: Final = 0
QF_TS: Final = 1  # ts_recv; NULL: no quote
QF_BID: Final = 2
QF_ASK: Final = 3

# ---- lit reference of each name (`lit`, rows like `names`): an equity's last usable quote,
# last lit print, and how many of each came so far (a window compares counts at its ends).
# Only events of the name write its row: judging a window reads it and nothing more.
E_QUOTE: Final = 0  # four QF_* columns
E_QUOTES: Final = 4
E_LIT_PX: Final = 5  # 0: no lit print yet
E_LIT_PRINTS: Final = 6
E_EPISODE: Final = 7  # ring position of the latest episode (open if >= S_EPISODE_HEAD), -1
E_WIDTH: Final = 8

# ---- pending absorbed-block candidates (`blocks`, a ring)
B_NAME: Final = 0
B_DEADLINE: Final = 1
B_TS_RECV: Final = 2
B_MEMBER: Final = 3  # row in `dark_members`
B_NOTIONAL: Final = 4  # cents
B_REF_PX: Final = 5
B_REF_QUOTE: Final = 6  # four QF_* columns: the quote at the print
B_QUOTES: Final = 10  # E_QUOTES and E_LIT_PRINTS of the name at the print
B_LIT_PRINTS: Final = 11
B_WIDTH: Final = 12

# ---- open stealth accumulation / distribution episodes (`episodes`, a ring)
EP_NAME: Final = 0
EP_DEADLINE: Final = 1
EP_REF_PX: Final = 2
EP_REF_QUOTE: Final = 3  # four QF_* columns
EP_MEMBERS: Final = 7  # first row in `dark_members`
EP_MEMBERS_TAIL: Final = 8
EP_COUNT: Final = 9
EP_ABOVE: Final = 10  # prints at or above the lit mid
EP_BELOW: Final = 11
EP_PLACED: Final = 12  # prints with a lit quote to place them against
EP_SIZE: Final = 13
EP_NOTIONAL: Final = 14
EP_LAST_TS: Final = 15
EP_TS_START: Final = 16  # smallest and largest member ts_event
EP_TS_END: Final = 17
EP_WIDTH: Final = 18

# ---- packets: a pool of slots
P_STATE: Final = 0  # PS_FREE, PS_OPEN, PS_WAITING (closed, its moment group still open)
P_SERIAL: Final = 1
P_CONTRACT: Final = 2
P_NAME: Final = 3
P_SIDE: Final = 4
P_FIRST_TS: Final = 5
P_FIRST_TS_EVENT: Final = 6
P_DEADLINE: Final = 7
P_LAST_TS: Final = 8
P_GROUP: Final = 9  # slot of the group's first packet, -1: none
P_MEMBERS: Final = 10  # first member row
P_MEMBERS_TAIL: Final = 11
P_COUNT: Final = 12
P_LATE: Final = 13
P_NEXT: Final = 14  # next closed part of the group / next free slot
P_GROUP_OPEN: Final = 15  # on a group's first packet: parts still open
P_GROUP_HEAD: Final = 16  # ... and its closed parts, in closing order
P_GROUP_TAIL: Final = 17
P_WIDTH: Final = 18

PS_FREE: Final = 0
PS_OPEN: Final = 1
PS_WAITING: Final = 2

# ---- members: a pool of rows, chained per packet (also the layout of output member rows)
M_INSTRUMENT: Final = 0
M_PUBLISHER: Final = 1
M_TS_EVENT: Final = 2
M_SEQUENCE: Final = 3
M_PRICE: Final = 4
M_SIZE: Final = 5
M_SIDE: Final = 6
M_BUCKET: Final = 7
M_BID: Final = 8  # the quote used, NULL when none
M_ASK: Final = 9
M_CONTRACT: Final = 10
M_NEXT: Final = 11  # next member of the packet / next free row; unused in output rows
M_WIDTH: Final = 12

# ---- scalars
S_CLOCK: Final = 0
S_DAY: Final = 1
S_DAY_BEGIN: Final = 2
S_DAY_END: Final = 3
S_NEXT_SERIAL: Final = 4
S_FIFO_HEAD: Final = 5  # fifo positions count up; the slot is fifo[position % capacity]
S_FIFO_TAIL: Final = 6
S_PACKET_FREE: Final = 7  # head of the free slot list, -1 none
S_MEMBER_FREE: Final = 8
S_LAST_GAP_TS: Final = 9
S_PACKETS_USED: Final = 10  # high-water mark of slots ever used
S_MEMBERS_USED: Final = 11
S_OVERFLOW: Final = 12  # event index of a value outside the exact range, -1 none
S_BLOCK_HEAD: Final = 13  # ring positions of pending dark-pool blocks (row: position % rows)
S_BLOCK_TAIL: Final = 14
S_EPISODE_HEAD: Final = 15  # ... and of open dark-pool episodes
S_EPISODE_TAIL: Final = 16
S_DARK_MEMBER_FREE: Final = 17  # head of the free list of `dark_members`, -1 none
S_DARK_MEMBERS_USED: Final = 18
S_WIDTH: Final = 19

# ---- outputs: one row per print
O_EVENT: Final = 0
O_CONTRACT: Final = 1
O_SYMBOL: Final = 2
O_NAME: Final = 3
O_STATUS: Final = 4
O_BID: Final = 5  # the quote found (also when not used)
O_ASK: Final = 6
O_BID_SZ: Final = 7
O_ASK_SZ: Final = 8
O_QUOTE_TS: Final = 9
O_INFERENCE: Final = 10  # index into aggressor.INFERENCES
O_LATE: Final = 11
O_INSTRUMENT: Final = 12  # the print's key, price and size (copied: formatting reads columns)
O_PUBLISHER: Final = 13
O_TS_EVENT: Final = 14
O_SEQUENCE: Final = 15
O_PRICE: Final = 16
O_SIZE: Final = 17
O_WIDTH: Final = 18

# ---- inference codes: index into `compute.flow.aggressor.INFERENCES`
INF_UNKNOWN_MID: Final = 0
INF_UNKNOWN_NA: Final = 1
INF_BUY_NA_TICK: Final = 2
INF_SELL_NA_TICK: Final = 3
INF_BUY_AA_QUOTE: Final = 4
INF_SELL_BB_QUOTE: Final = 5
INF_BUY_A_QUOTE: Final = 6
INF_SELL_B_QUOTE: Final = 7
INF_BUY_M_QUOTE_MID: Final = 8
INF_SELL_M_QUOTE_MID: Final = 9
INF_BUY_M_TRADE_SIZE: Final = 10
INF_SELL_M_TRADE_SIZE: Final = 11
INF_BUY_M_DEPTH: Final = 12
INF_SELL_M_DEPTH: Final = 13
INF_BUY_M_TICK: Final = 14
INF_SELL_M_TICK: Final = 15

ST_PRINT: Final = 0
ST_JOINED: Final = 1
ST_HELD: Final = 2
ST_STALE: Final = 3
ST_MISSING: Final = 4
ST_CROSSED: Final = 5

SIDE_BUY: Final = 0
SIDE_SELL: Final = 1
SIDE_UNKNOWN: Final = 2
SIDE_MIXED: Final = 3
# buckets: index into packets.BUCKETS (AA, A, M, B, BB, NA)
BUCKET_AA: Final = 0
BUCKET_A: Final = 1
BUCKET_M: Final = 2
BUCKET_B: Final = 3
BUCKET_BB: Final = 4
BUCKET_NA: Final = 5

# ---- outputs: one row per emitted packet
Q_KIND: Final = 0  # PK_*
Q_TS_RECV: Final = 1
Q_NAME: Final = 2
Q_TS_START: Final = 3
Q_TS_END: Final = 4
Q_SIDE: Final = 5
Q_PREMIUM: Final = 6
Q_SIZE: Final = 7
Q_COUNT: Final = 8
Q_LEVELS: Final = 9
Q_BUY: Final = 10
Q_SELL: Final = 11
Q_COVERED: Final = 12
Q_BUCKETS: Final = 13  # six counts, AA .. NA
Q_SPOT: Final = 19
Q_LATE: Final = 20
Q_MEMBERS: Final = 21  # first output member row
Q_LEGS: Final = 22  # first output leg row
Q_LEG_COUNT: Final = 23
Q_SCORE: Final = 24  # output score row, -1: the packet met no rule's precondition
Q_WIDTH: Final = 25

PK_SINGLE: Final = 0
PK_BLOCK: Final = 1
PK_SPLIT: Final = 2
PK_SWEEP: Final = 3
PK_MULTI_LEG: Final = 4

# ---- outputs: one row per leg
L_CONTRACT: Final = 0
L_INSTRUMENT: Final = 1
L_SYMBOL: Final = 2
L_RIGHT: Final = 3
L_STRIKE: Final = 4
L_EXPIRY: Final = 5
L_SIDE: Final = 6
L_SIZE: Final = 7
L_PREMIUM: Final = 8
L_COUNT: Final = 9
L_VWAP: Final = 10
L_RATIO: Final = 11
L_MONEYNESS: Final = 12  # fixed point, 1e-4 (NULL: no spot or strike)
L_DTE: Final = 13  # NULL: no expiry
L_DAY_VOLUME: Final = 14
L_OPEN_INTEREST: Final = 15
L_WIDTH: Final = 16

# ---- outputs: one row per scored packet: what the classifiers read besides the packet
R_PACKET: Final = 0
R_DAY: Final = 1
R_SPREAD_BPS: Final = 2
R_FIRST_OPEN_INTEREST: Final = 3  # of the first leg's contract, NULL unknown
R_UNUSUAL: Final = 4  # 1: the unusual-volume rule fired on the contract below
R_U_VOLUME: Final = 5
R_U_OPEN_INTEREST: Final = 6
R_U_PAST_TOTAL: Final = 7
R_U_PAST_DAYS: Final = 8
R_U_AVG_LIMIT: Final = 9
R_N: Final = 10  # samples in the underlying's premium and size rings before the push
R_P_SUM: Final = 11  # premium ring: sum, and the sum of squares in 2^24 limbs (hi, mid, lo)
R_P_SQ_HI: Final = 12
R_P_SQ_MID: Final = 13
R_P_SQ_LO: Final = 14
R_S_SUM: Final = 15  # size ring, alike
R_S_SQ_HI: Final = 16
R_S_SQ_MID: Final = 17
R_S_SQ_LO: Final = 18
R_WIDTH: Final = 19
LIMB: Final = 2**24  # ring samples stay below LIMB**2 (checked), so limb sums fit int64

# ---- outputs: one row per dark-pool event (its member rows in `dark_members_out`)
D_KIND: Final = 0  # DK_*
D_TS_RECV: Final = 1
D_NAME: Final = 2
D_TS_START: Final = 3
D_TS_END: Final = 4
D_SIZE: Final = 5
D_NOTIONAL: Final = 6
D_COUNT: Final = 7
D_IMPACT: Final = 8  # basis points, fixed point 1e-4
D_QUOTED: Final = 9  # a block: a lit quote came inside its window
D_MEMBERS: Final = 10  # first output member row
D_QUOTES: Final = 11  # how many of the two quotes below are set
D_QUOTE_1: Final = 12  # four QF_* columns
D_QUOTE_2: Final = 16
D_WIDTH: Final = 20

DK_ABSORBED_BLOCK: Final = 0
DK_STEALTH_ACCUMULATION: Final = 1
DK_DISTRIBUTION: Final = 2

# ---- outputs: quarantined events and counters
QR_EVENT: Final = 0
QR_REASON: Final = 1
QR_WIDTH: Final = 2

REASON_UNKNOWN_CONTRACT: Final = 0
REASON_BAD_PRINT: Final = 1
REASON_NOT_RAW: Final = 2
REASONS: Final = ("unknown_contract", "bad_print", "not_raw_event")

CT_LATE_EVENTS: Final = 0
CT_CONTRACTS_FROM_SYMBOL: Final = 1
CT_QUOTES_LATE_IGNORED: Final = 2
CT_EQUITY_PRINTS_UNUSABLE: Final = 3
CT_EQUITY_PRINTS_LATE_IGNORED: Final = 4
CT_QUARANTINED: Final = 5  # one per reason, in REASONS order
CT_EQUITY_QUOTES_UNUSABLE: Final = 8  # after the quarantine counters
CT_EQUITY_QUOTES_LATE_IGNORED: Final = 9
CT_DARKPOOL_LATE_PRINTS: Final = 10
CT_BLOCKS_WITHOUT_LIT_REFERENCE: Final = 11
CT_BLOCKS_UNOBSERVED: Final = 12
CT_EPISODES_WITHOUT_LIT_REFERENCE: Final = 13
COUNTERS: Final = (
    "late_events",
    "contracts_from_symbol",
    "option_quotes_late_ignored",
    "equity_prints_unusable",
    "equity_prints_late_ignored",
    *(f"quarantined_{reason}" for reason in REASONS),
    "equity_quotes_unusable",
    "equity_quotes_late_ignored",
    "darkpool_late_prints",
    "darkpool_blocks_without_lit_reference",
    "darkpool_blocks_unobserved",
    "darkpool_episodes_without_lit_reference",
)
