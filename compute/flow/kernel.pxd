# Types for kernel.py (Cython pure-Python mode): every constant a C integer, every array a
# typed memoryview, every method a C call. Compiled by setup.py; kernel.py runs unchanged
# as Python without it. The kernel indexes its arrays through `self` (`self.packets[slot, f]`):
# a memoryview bound to a local is acquired and released, two atomic operations per call.
cimport cython

cdef extern from *:
    void prefetch "__builtin_prefetch" (const void *address) nogil

ctypedef long long i64
ctypedef i64[:, ::1] table
ctypedef i64[::1] column

cdef i64 BUCKET_NA, C_AVG_LIMIT, C_DAY_VOLUME, C_DEFINED, C_DTE, C_DTE_DAY
cdef i64 C_EXPIRY, C_LAST_PRICE, C_MULTIPLIER, C_NAME, C_OPEN_BUY, C_OPEN_INTEREST
cdef i64 C_OPEN_SELL, C_OPEN_UNKNOWN, C_P_ASK, C_P_ASK_SZ, C_P_BID, C_P_BID_SZ
cdef i64 C_P_SAMPLED, C_P_TS, C_PAST_DAYS, C_PAST_TOTAL, C_Q_ASK, C_Q_ASK_SZ
cdef i64 C_Q_BID, C_Q_BID_SZ, C_Q_SAMPLED, C_Q_TS, C_RIGHT, C_STRIKE
cdef i64 C_SYMBOL, C_TICK, C_UNUSUAL_DAY, C_VOLUME_DAY, C_WIDTH, CT_CONTRACTS_FROM_SYMBOL
cdef i64 CT_EQUITY_PRINTS_LATE_IGNORED, CT_EQUITY_PRINTS_UNUSABLE, CT_LATE_EVENTS, CT_QUARANTINED, CT_QUOTES_LATE_IGNORED, INF_BUY_AA_QUOTE
cdef i64 INF_BUY_A_QUOTE, INF_BUY_M_DEPTH, INF_BUY_M_QUOTE_MID, INF_BUY_M_TICK, INF_BUY_M_TRADE_SIZE, INF_BUY_NA_TICK
cdef i64 INF_SELL_BB_QUOTE, INF_SELL_B_QUOTE, INF_SELL_M_DEPTH, INF_SELL_M_QUOTE_MID, INF_SELL_M_TICK, INF_SELL_M_TRADE_SIZE
cdef i64 INF_SELL_NA_TICK, INF_UNKNOWN_MID, INF_UNKNOWN_NA, I_ASK, I_ASK_SZ, I_BID
cdef i64 I_BID_SZ, I_CONTRACT, I_EXPIRY, I_FLAG, I_INSTRUMENT, I_KIND
cdef i64 I_MULTIPLIER, I_NAME, I_PRICE, I_PUBLISHER, I_RIGHT, I_SEQUENCE
cdef i64 I_SIZE, I_STRIKE, I_SYMBOL, I_TS_EVENT, I_TS_RECV, K_CONTRACT
cdef i64 K_EQUITY_PRINT, K_GAP, K_NOT_RAW, K_OPEN_INTEREST, K_OPTION_PRINT, K_OPTION_QUOTE
cdef i64 K_SKIP, L_CONTRACT, L_COUNT, L_DAY_VOLUME, L_DTE, L_EXPIRY
cdef i64 L_INSTRUMENT, L_MONEYNESS, L_OPEN_INTEREST, L_PREMIUM, L_RATIO, L_RIGHT
cdef i64 L_SIDE, L_SIZE, L_STRIKE, L_SYMBOL, L_VWAP, M_ASK
cdef i64 M_BID, M_BUCKET, M_CONTRACT, M_INSTRUMENT, M_NEXT, M_PRICE
cdef i64 M_PUBLISHER, M_SEQUENCE, M_SIDE, M_SIZE, M_TS_EVENT, M_WIDTH
cdef i64 N_ANCHOR_GROUP, N_ANCHOR_SERIAL, N_ANCHOR_SLOT, N_ANCHOR_TS, N_BASE_EXISTS, N_BASE_LAST_TS
cdef i64 N_BASE_LEN, N_BASE_POS, N_P_SUM, N_S_SUM, N_SPOT, N_SPREAD_LEN, N_SPREAD_POS, NO_DEADLINE
cdef i64 NULL, O_ASK, O_ASK_SZ, O_BID, O_BID_SZ, O_CONTRACT
cdef i64 O_EVENT, O_INFERENCE, O_INSTRUMENT, O_PUBLISHER, O_TS_EVENT, O_SEQUENCE, O_PRICE, O_SIZE, O_LATE, O_NAME, O_QUOTE_TS, O_STATUS
cdef i64 O_SYMBOL, P_CONTRACT, P_COUNT, P_DEADLINE, P_FIRST_TS, P_FIRST_TS_EVENT
cdef i64 P_GROUP, P_GROUP_HEAD, P_GROUP_OPEN, P_GROUP_TAIL, P_LAST_TS, P_LATE
cdef i64 P_MEMBERS, P_MEMBERS_TAIL, P_NAME, P_NEXT, P_SERIAL, P_SIDE
cdef i64 P_STATE, PK_BLOCK, PK_MULTI_LEG, PK_SINGLE, PK_SPLIT, PK_SWEEP
cdef i64 PS_FREE, PS_OPEN, PS_WAITING, Q_BUCKETS, Q_BUY, Q_COUNT
cdef i64 Q_COVERED, Q_KIND, Q_LATE, Q_LEG_COUNT, Q_LEGS, Q_LEVELS
cdef i64 Q_MEMBERS, Q_NAME, Q_PREMIUM, Q_SCORE, Q_SELL, Q_SIDE
cdef i64 Q_SIZE, Q_SPOT, Q_TS_END, Q_TS_RECV, Q_TS_START, QR_EVENT
cdef i64 QR_REASON, R_N, R_P_SUM, R_S_SUM, LIMB, R_DAY, R_FIRST_OPEN_INTEREST, R_PACKET, R_SPREAD_BPS
cdef i64 R_U_AVG_LIMIT, R_U_OPEN_INTEREST, R_U_PAST_DAYS, R_U_PAST_TOTAL, R_U_VOLUME, R_UNUSUAL
cdef i64 REASON_BAD_PRINT, REASON_NOT_RAW, REASON_UNKNOWN_CONTRACT, RIGHT_CALL, RIGHT_PUT, S_CLOCK
cdef i64 S_DAY, S_DAY_BEGIN, S_DAY_END, S_FIFO_HEAD, S_FIFO_TAIL, S_LAST_GAP_TS
cdef i64 S_MEMBER_FREE, S_MEMBERS_USED, S_NEXT_SERIAL, S_OVERFLOW, S_PACKET_FREE, S_PACKETS_USED
cdef i64 SIDE_BUY, SIDE_MIXED, SIDE_SELL, SIDE_UNKNOWN, ST_CROSSED, ST_HELD
cdef i64 ST_JOINED, ST_MISSING, ST_PRINT, ST_STALE, UNLIMITED
cdef i64 NOTIONAL_LIMIT, PREMIUM_DIVISOR, FIXED_SCALE, PRICE_LIMIT, RATIO_LIMIT, PREFETCH_AHEAD
cdef i64 B_DEADLINE, B_LIT_PRINTS, B_MEMBER, B_NAME, B_NOTIONAL, B_QUOTES, B_REF_PX
cdef i64 B_REF_QUOTE, B_TS_RECV, BUCKET_A, BUCKET_AA, BUCKET_B, BUCKET_BB, BUCKET_M
cdef i64 CT_BLOCKS_UNOBSERVED, CT_BLOCKS_WITHOUT_LIT_REFERENCE, CT_DARKPOOL_LATE_PRINTS
cdef i64 CT_EPISODES_WITHOUT_LIT_REFERENCE, CT_EQUITY_QUOTES_LATE_IGNORED
cdef i64 CT_EQUITY_QUOTES_UNUSABLE, D_COUNT, D_IMPACT, D_KIND, D_MEMBERS, D_NAME
cdef i64 D_NOTIONAL, D_QUOTE_1, D_QUOTED, D_QUOTES, D_SIZE, D_TS_END, D_TS_RECV
cdef i64 D_TS_START, DK_ABSORBED_BLOCK, DK_DISTRIBUTION, DK_STEALTH_ACCUMULATION
cdef i64 E_EPISODE, E_LIT_PRINTS, E_LIT_PX, E_QUOTE, E_QUOTES, EP_ABOVE, EP_BELOW
cdef i64 EP_COUNT, EP_DEADLINE, EP_LAST_TS, EP_MEMBERS, EP_MEMBERS_TAIL, EP_NAME
cdef i64 EP_NOTIONAL, EP_PLACED, EP_REF_PX, EP_REF_QUOTE, EP_SIZE, EP_TS_END
cdef i64 EP_TS_START, K_EQUITY_QUOTE, QF_ASK, QF_BID, QF_PUBLISHER, QF_TS
cdef i64 S_BLOCK_HEAD, S_BLOCK_TAIL, S_DARK_MEMBER_FREE, S_DARK_MEMBERS_USED
cdef i64 S_EPISODE_HEAD, S_EPISODE_TAIL

@cython.locals(twice=i64)
cdef i64 infer(i64 price, i64 size, i64 bid, i64 ask, i64 bid_sz, i64 ask_sz, i64 tick)
cdef i64 inference_side(i64 code)
cdef i64 inference_bucket(i64 code)
@cython.locals(q=i64, r=i64, twice=i64)
cdef i64 fixed_ratio(i64 num, i64 den)
cdef i64 gcd(i64 a, i64 b)
cdef i64 half_sum(i64 a, i64 b)


cdef class FlowKernel:
    cdef public object hooks
    cdef public i64 max_age, cluster_window, sync_window, max_legs, max_ratio
    cdef public i64 block_min_size, block_min_premium, window, ttl
    cdef public i64 spike_min_premium, repeated_min_prints
    cdef public i64 dark_block_shares, dark_block_notional, dark_impact_window, dark_max_impact
    cdef public i64 dark_episode_window, dark_episode_prints, dark_episode_shares
    cdef public i64 dark_side_pct, dark_min_move, dark_deadline
    cdef public i64 held_begin, held_end, event, full_outputs
    cdef public Py_ssize_t n_prints, n_packets, n_members, n_legs, n_scores, n_quarantined
    cdef public Py_ssize_t n_dark, n_dark_members, n_quiet_singles
    cdef public table contracts, names, premium_ring, size_ring, spread_ring, packets, members
    cdef public table prints, packets_out, members_out, legs_out, scores
    cdef public table quarantined, scratch_leg_rows
    cdef public table lit, blocks, episodes, dark_members, dark_out, dark_members_out
    cdef public column fifo, scalars, counters
    cdef public column scratch_parts, scratch_roots, scratch_order, scratch_venues
    cdef public column scratch_sizes, scratch_legs

    @cython.locals(i=Py_ssize_t, k=Py_ssize_t, kind=i64, t=i64, late=i64, clock=i64, c=i64,
                   rows=Py_ssize_t)
    cpdef run(self, table events, Py_ssize_t n, bint finish)
    cdef void quarantine(self, Py_ssize_t i, i64 reason)
    @cython.locals(f=Py_ssize_t)
    cdef void init_contract(self, i64 c, i64 symbol, i64 name, i64 right, i64 strike,
                            i64 expiry, i64 mult)
    @cython.locals(c=i64)
    cdef i64 contract(self, table events, Py_ssize_t i)
    @cython.locals(c=i64)
    cdef void define(self, table events, Py_ssize_t i)
    @cython.locals(c=i64, q_ts=i64)
    cdef void option_quote(self, table events, Py_ssize_t i, i64 t)
    @cython.locals(bid=i64, ask=i64, name=i64, held=i64)
    cdef void equity_quote(self, table events, Py_ssize_t i, i64 t)
    @cython.locals(price=i64, size=i64, name=i64, bid=i64, ask=i64, bucket=i64, notional=i64,
                   pos=i64, e=i64, m=i64, mid=i64, odd=i64)
    cdef void equity_print(self, table events, Py_ssize_t i, i64 t, i64 late)
    cdef i64 reference(self, i64 name)
    @cython.locals(ref=i64, pos=i64, b=i64, f=Py_ssize_t)
    cdef void open_block(self, table events, Py_ssize_t i, i64 t, i64 name, i64 notional,
                         i64 bucket, i64 bid, i64 ask)
    @cython.locals(pos=i64, e=i64, f=Py_ssize_t)
    cdef i64 open_episode(self, i64 name, i64 t)
    @cython.locals(pos=i64)
    cdef i64 push_window(self, table ring, i64 tail_at, i64 deadline, i64 deadline_at)
    cdef i64 new_dark_member(self, table events, Py_ssize_t i, i64 bucket, i64 bid, i64 ask)
    cdef void free_dark_members(self, i64 head, i64 tail)
    @cython.locals(b=i64, m=i64, pos=i64, e=i64)
    cdef void close_dark(self, i64 t)
    @cython.locals(name=i64, quoted=i64, last_px=i64, impact=i64, m=i64, ts_event=i64, d=i64)
    cdef void judge_block(self, i64 b)
    @cython.locals(deadline=i64, e=i64)
    cdef void refresh_dark_deadline(self)
    @cython.locals(name=i64, n=i64, placed=i64, ref=i64, end_px=i64, move=i64, min_move=i64,
                   pct=i64, kind=i64, d=i64, m=i64)
    cdef void judge_episode(self, i64 e)
    @cython.locals(d=i64)
    cdef i64 dark_row(self, i64 kind, i64 ts_recv, i64 name, i64 ts_start, i64 ts_end,
                      i64 size, i64 notional, i64 count, i64 impact, i64 quoted)
    @cython.locals(k=i64, same=i64, f=Py_ssize_t)
    cdef void add_quote(self, i64 d, table source, i64 row, i64 at)
    @cython.locals(row=i64, f=Py_ssize_t)
    cdef void copy_dark_member(self, i64 m)
    @cython.locals(num=i64, negative=i64, q=i64, r=i64, _digit_pair=Py_ssize_t, x=i64,
                   digits=i64, twice=i64)
    cdef i64 move_bps(self, i64 ref, i64 to)
    @cython.locals(day=i64, begin=i64, end=i64)
    cdef i64 packet_day(self, i64 ts)
    @cython.locals(day=i64, begin=i64, end=i64)
    cdef i64 day_begin(self, i64 ts)
    @cython.locals(total=i64, days=i64, limit=i64)
    cdef void count_volume(self, i64 c, i64 day, i64 size)
    cdef i64 dte(self, i64 c, i64 day)
    @cython.locals(strike=i64)
    cdef i64 moneyness(self, i64 c, i64 spot)
    @cython.locals(c=i64, price=i64, size=i64, sampled=i64, bid=i64, ask=i64, bid_sz=i64,
                   ask_sz=i64, quote_ts=i64, status=i64, used_bid=i64, used_ask=i64, tick=i64,
                   last=i64, code=i64, side=i64, p=i64, m=i64, slot=i64, buy=i64, sell=i64)
    cdef void option_print(self, table events, Py_ssize_t i, i64 t, i64 late)
    @cython.locals(m=i64)
    cdef i64 new_member(self, table members, i64 free_at, i64 used_at, table events,
                        Py_ssize_t i, i64 c, i64 side, i64 bucket, i64 bid, i64 ask)
    @cython.locals(slot=i64)
    cdef i64 new_packet(self, i64 c, i64 name, i64 side, i64 t, i64 ts_event, i64 m)
    @cython.locals(m=i64, tail=i64)
    cdef void free_packet(self, i64 slot)
    @cython.locals(name=i64, slot=i64, serial=i64, tail=i64, anchor_serial=i64, anchor_slot=i64,
                   group=i64)
    cdef void open_packet(self, i64 c, i64 side, i64 t, i64 ts_event, i64 m)
    @cython.locals(capacity=i64, head=i64, slot=i64, c=i64, side=i64, group=i64)
    cdef void close_packets(self, i64 t)
    @cython.locals(n=i64, slot=i64, k=i64, j=i64, m=i64, venue=i64, first=i64, a=i64, b=i64,
                   count=i64)
    cdef void emit_group(self, i64 group)
    cdef i64 find(self, i64 k)
    @cython.locals(n_legs=i64, k=i64, c=i64, m=i64, smallest=i64, largest=i64)
    cdef void emit_order(self, i64 count)
    @cython.locals(row=i64, f=Py_ssize_t)
    cdef void copy_member(self, i64 m)
    @cython.locals(c=i64, name=i64, n=i64, late=i64, q=i64, fast=bint, b=i64, spread_bps=i64,
                   head=i64, ts_start=i64, ts_end=i64, size=i64, notional=i64, buy=i64,
                   sell=i64, venues=i64, levels=i64, m=i64, msize=i64, price=i64, ts=i64,
                   bid=i64, ask=i64, new_venue=i64, new_price=i64, k=i64, premium=i64,
                   first_ts=i64, day=i64, spot=i64, side=i64, kind=i64, quiet=bint)
    cdef void emit_single(self, i64 slot)
    cdef void write_packet(self, i64 q, i64 kind, i64 ts_recv, i64 name, i64 ts_start,
                           i64 ts_end, i64 side, i64 premium, i64 size, i64 n, i64 levels,
                           i64 buy, i64 sell, i64 spot, i64 late)
    @cython.locals(whole=i64, rest=i64)
    cdef i64 premium(self, i64 notional, i64 multiplier)
    @cython.locals(k=i64)
    cdef void write_leg(self, i64 c, i64 instrument, i64 side, i64 size, i64 premium, i64 n,
                       i64 notional, i64 ratio, i64 day, i64 spot)
    @cython.locals(q=i64, first_member=i64, first_leg=i64, first=i64, name=i64, day=i64, b=i64,
                   ts_recv=i64, head=i64, ts_start=i64, ts_end=i64, size=i64, buy=i64, sell=i64,
                   n=i64, levels=i64, spread_bps=i64, n_legs=i64, k=i64, slot=i64, m=i64, c=i64,
                   leg=i64, f=i64, msize=i64, price=i64, ts=i64, bid=i64, ask=i64,
                   new_level=i64, j=i64, ratio_unit=i64, premium=i64, leg_side=i64,
                   leg_premium=i64, side=i64, ratio=i64)
    cdef void emit_multi_leg(self, i64 count)
    @cython.locals(window=i64, length=i64, pos=i64)
    cdef void push_samples(self, i64 name, i64 premium, i64 size, i64 spread_bps)
    @cython.locals(k=i64)
    cdef void reset_baselines(self, i64 name)
    @cython.locals(a=i64, b=i64)
    cdef void add_sample(self, i64 name, i64 at, i64 x, i64 sign)
    @cython.locals(r=i64, first_leg=i64, n_legs=i64, length=i64, k=i64, leg=i64, c=i64,
                   volume=i64, oi=i64)
    cdef void score(self, i64 q, i64 name, i64 first_ts, i64 day, i64 spread_bps,
                    i64 premium, i64 size, i64 late)
