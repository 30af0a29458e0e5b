"""The one entry into compute: `step(state, batch) -> (state, outputs)` and `finish(state)`.

Caller contract: raw events come in canonical order (`schemas.ordering`). `step` updates the
state it is given in place and returns that same object (copying a state with thousands of
open packets per batch would cost more than the work); callers that need the state before
a step keep `encode_state(state)` bytes, which is what the live service checkpoints anyway.

Time is the `ts_recv` of the input. Before an event is applied, every packet and dark-pool
window whose deadline lies before its `ts_recv` closes, so outputs depend on the sequence of
events only, never on where batches begin or end. An event with `ts_recv` behind the latest
one seen is late: its print is inferred and emitted at once as its own packet, flagged
`late`, and nothing already emitted changes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from compute.calendar import new_york_date, new_york_day_bounds
from compute.flow.aggressor import infer_side
from compute.flow.darkpool import close_dark, on_equity_print, on_equity_quote
from compute.flow.packets import emit_parts, emit_single_leg
from compute.flow.state import (
    NO_DEADLINE,
    ContractState,
    EngineState,
    MomentAnchor,
    MomentGroup,
    OpenPacket,
    bump,
)
from schemas.codec import encode_event
from schemas.events import (
    EquityPrint,
    EquityQuote,
    Event,
    Gap,
    Heartbeat,
    MemberPrint,
    NbboStatus,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    PrintInference,
    Quarantined,
)
from schemas.occ import parse_occ

_SIDE_CODE = {"buy": 0, "sell": 1, "unknown": 2}


def _quarantine(state: EngineState, event: Event, reason: str, detail: str) -> Quarantined:
    bump(state, f"quarantined_{reason}")
    return Quarantined(
        ts_recv=event.ts_recv,
        source="compute",
        reason=reason,
        detail=detail,
        payload=encode_event(event),
    )


def _contract_from_symbol(symbol: str, underlying: str) -> ContractState | None:
    try:
        occ = parse_occ(symbol)
    except ValueError:
        return None
    return ContractState(
        symbol, underlying or occ.root, occ.right, occ.strike_price, occ.expiration_date, 100
    )


def _define(state: EngineState, event: OptionContract) -> None:
    try:
        expiration_date = parse_occ(event.symbol).expiration_date
    except ValueError:
        expiration_date = new_york_date(event.expiration) if event.expiration else 0
    c = state.contracts.get(event.instrument_id)
    if c is None:
        state.contracts[event.instrument_id] = ContractState(
            event.symbol,
            event.underlying,
            event.right,
            event.strike_price,
            expiration_date,
            event.multiplier,
        )
        return
    c.symbol = event.symbol
    c.underlying = event.underlying
    c.right = event.right
    c.strike_price = event.strike_price
    c.expiration_date = expiration_date
    c.multiplier = event.multiplier


def _contract(state: EngineState, event: OptionQuote | OpenInterest) -> ContractState | Quarantined:
    """The event's contract: known by its id, else learnt from its OCC symbol, else quarantine."""
    c = state.contracts.get(event.instrument_id)
    if c is None:
        c = _contract_from_symbol(event.symbol, event.underlying)
        if c is None:
            return _quarantine(
                state, event, "unknown_contract", f"instrument_id {event.instrument_id}"
            )
        state.contracts[event.instrument_id] = c
    return c


def _quote(state: EngineState, event: OptionQuote) -> Quarantined | None:
    c = _contract(state, event)
    if isinstance(c, Quarantined):
        return c
    t = event.ts_recv
    if t > c.q_ts:
        c.p_ts, c.p_bid, c.p_ask, c.p_bid_sz, c.p_ask_sz, c.p_sampled = (
            c.q_ts, c.q_bid, c.q_ask, c.q_bid_sz, c.q_ask_sz, c.q_sampled,
        )  # fmt: skip
    elif t < c.q_ts:
        # Only the last two quotes are kept, so an older one cannot be slotted in.
        bump(state, "option_quotes_late_ignored")
        return None
    c.q_ts, c.q_bid, c.q_ask, c.q_bid_sz, c.q_ask_sz, c.q_sampled = (
        t, event.bid_px, event.ask_px, event.bid_sz, event.ask_sz, event.sampled,
    )  # fmt: skip
    return None


def _open_interest(state: EngineState, event: OpenInterest) -> Quarantined | None:
    c = _contract(state, event)
    if isinstance(c, Quarantined):
        return c
    c.open_interest = event.open_interest
    return None


def _close_packets(state: EngineState, t: int, out: list[Event]) -> None:
    """Close every open packet whose window ended before `t` (oldest first)."""
    packets = state.packets
    open_by_key = state.open_by_key
    cursor = state.packet_cursor
    end = state.next_packet_serial
    while cursor < end:
        packet = packets[cursor]
        if packet.deadline >= t:
            break
        del packets[cursor]
        del open_by_key[packet.key]
        cursor += 1
        if packet.group < 0:
            emit_single_leg(state, packet, out)
            continue
        group = state.groups[packet.group]
        group.closed.append(packet)
        group.open_count -= 1
        if group.open_count == 0:
            del state.groups[packet.group]
            emit_parts(state, group.closed, out)
    state.packet_cursor = cursor
    state.packet_deadline = packets[cursor].deadline if cursor < end else NO_DEADLINE


def _open_packet(
    state: EngineState, key: int, c: ContractState, event: OptionPrint, side: str, m: MemberPrint
) -> None:
    t = event.ts_recv
    serial = state.next_packet_serial
    state.next_packet_serial = serial + 1
    deadline = t + state.config.cluster_window_ns
    packet = OpenPacket(
        serial,
        key,
        event.instrument_id,
        c.underlying,
        side,
        t,
        event.ts_event,
        event.publisher_id,
        deadline,
        t,
        -1,
        [m],
    )
    state.packets[serial] = packet
    state.open_by_key[key] = serial
    if serial == state.packet_cursor:
        state.packet_deadline = deadline
    # Legs of one complex order print at the same moment on the same underlying. Receive
    # times are compared: the feed delivers the legs together, while venue timestamps of
    # legs carry independent jitter. A leg may be swept across venues, so the moment spans
    # venues here; unrelated prints of the moment are told apart by venue when it closes.
    anchor_key = c.underlying
    anchor = state.anchors.get(anchor_key)
    if (
        anchor is not None
        and t - anchor.ts_recv <= state.config.multi_leg_sync_ns
        and anchor.serial in state.packets
    ):
        if anchor.group < 0:
            state.groups[anchor.serial] = MomentGroup(2, [])
            state.packets[anchor.serial].group = anchor.serial
            anchor.group = anchor.serial
        else:
            state.groups[anchor.group].open_count += 1
        packet.group = anchor.group
    elif anchor is None:
        state.anchors[anchor_key] = MomentAnchor(t, serial, -1)
    else:  # the anchor of an older moment: it now names this packet
        anchor.ts_recv, anchor.serial, anchor.group = t, serial, -1


def step(state: EngineState, batch: Sequence[Event]) -> tuple[EngineState, list[Event]]:
    """Apply raw events (canonical order) to the state; returns it and the derived events."""
    out: list[Event] = []
    contracts = state.contracts
    open_by_key = state.open_by_key
    packets = state.packets
    run_id = state.run_id
    max_age = state.config.nbbo_max_age_ns
    clock = state.clock
    for event in batch:
        kind = type(event)
        if kind is Quarantined:
            continue  # already quarantined upstream and stored by the sink
        if kind not in _RAW:
            out.append(_quarantine(state, event, "not_raw_event", kind.__name__))
            continue
        t = event.ts_recv
        late = False
        if t > clock:
            if t > state.packet_deadline:
                _close_packets(state, t, out)
            if t > state.dark_deadline:
                close_dark(state, t, out)
            clock = state.clock = t
        elif t < clock:
            late = True
            bump(state, "late_events")

        if kind is OptionPrint:
            trade: OptionPrint = event  # type: ignore[assignment]  # `kind` checked it
            iid = trade.instrument_id
            c = contracts.get(iid)
            if c is None:
                c = _contract_from_symbol(trade.symbol, trade.underlying)
                if c is None:
                    out.append(
                        _quarantine(state, trade, "unknown_contract", f"instrument_id {iid}")
                    )
                    continue
                contracts[iid] = c
                bump(state, "contracts_from_symbol")
            price = trade.price
            size = trade.size
            if price <= 0 or size <= 0:
                out.append(_quarantine(state, trade, "bad_print", f"price {price} size {size}"))
                continue
            # ---- NBBO in force just before the print
            bid = trade.bid_px
            ask = trade.ask_px
            if bid is not None and ask is not None:
                status: NbboStatus = "print"
                bid_sz = trade.bid_sz
                ask_sz = trade.ask_sz
                quote_ts: int | None = None
            else:
                if c.q_ts < t:
                    quote_ts, bid, ask, bid_sz, ask_sz, sampled = (
                        c.q_ts, c.q_bid, c.q_ask, c.q_bid_sz, c.q_ask_sz, c.q_sampled,
                    )  # fmt: skip
                else:
                    quote_ts, bid, ask, bid_sz, ask_sz, sampled = (
                        c.p_ts, c.p_bid, c.p_ask, c.p_bid_sz, c.p_ask_sz, c.p_sampled,
                    )  # fmt: skip
                if quote_ts < 0 or quote_ts >= t:
                    status = "missing"
                    quote_ts = bid = ask = bid_sz = ask_sz = None
                elif bid is None or ask is None:
                    status = "missing"  # one-sided market: no NBBO to place the print in
                elif t - quote_ts <= max_age:
                    status = "joined"
                elif (
                    not sampled
                    and quote_ts > state.last_gap_ts
                    and quote_ts >= new_york_day_bounds(t)[1]  # same New York day
                ):
                    status = "held"  # a change stream's quote is in force until it changes
                else:
                    status = "stale"
            used_bid, used_ask = bid, ask
            if status == "stale" or status == "missing":
                used_bid = used_ask = None
            elif used_bid is not None and used_ask is not None and used_bid > used_ask:
                status = "crossed"
                used_bid = used_ask = None
            # ---- tick state (in-order prints only: a late print is not the last trade)
            tick = c.tick_dir
            last = c.last_price
            if last > 0:
                if price > last:
                    tick = 1
                elif price < last:
                    tick = -1
            if not late:
                c.last_price = price
                c.tick_dir = tick
            side, bucket, rule, confidence = infer_side(
                price, size, used_bid, used_ask, bid_sz, ask_sz, tick
            )
            out.append(
                PrintInference(
                    t,
                    run_id,
                    trade.ts_event,
                    trade.publisher_id,
                    iid,
                    trade.sequence,
                    c.symbol,
                    c.underlying,
                    price,
                    size,
                    side,
                    bucket,
                    rule,
                    confidence,
                    status,
                    bid,
                    ask,
                    bid_sz,
                    ask_sz,
                    quote_ts,
                    late,
                )
            )
            m = MemberPrint(
                iid,
                trade.publisher_id,
                trade.ts_event,
                trade.sequence,
                price,
                size,
                side,
                bucket,
                used_bid,
                used_ask,
            )
            if late:
                lone = OpenPacket(
                    -1, -1, iid, c.underlying, side, t, trade.ts_event, trade.publisher_id, t,
                    t, -1, [m], True,
                )  # fmt: skip
                emit_parts(state, [lone], out)
                continue
            key = iid * 4 + _SIDE_CODE[side]
            serial = open_by_key.get(key)
            if serial is None and side == "unknown":
                # A print the rules cannot sign joins the open packet of its contract.
                serial = max(open_by_key.get(iid * 4, -1), open_by_key.get(iid * 4 + 1, -1))
                if serial < 0:
                    serial = None
            if serial is not None:
                packet = packets[serial]
                packet.members.append(m)
                packet.last_ts_recv = t
            else:
                _open_packet(state, key, c, trade, side, m)
        elif kind is OptionQuote:
            problem = _quote(state, cast(OptionQuote, event))
            if problem is not None:
                out.append(problem)
        elif kind is EquityQuote:
            on_equity_quote(state, cast(EquityQuote, event))
        elif kind is EquityPrint:
            on_equity_print(state, cast(EquityPrint, event), late)
        elif kind is OptionContract:
            _define(state, cast(OptionContract, event))
        elif kind is OpenInterest:
            problem = _open_interest(state, cast(OpenInterest, event))
            if problem is not None:
                out.append(problem)
        elif kind is Gap:
            state.last_gap_ts = max(state.last_gap_ts, t)
        # A heartbeat only moves event time forward.
    return state, out


_RAW_TYPES: tuple[type[Event], ...] = (
    OptionPrint, OptionQuote, EquityPrint, EquityQuote, OptionContract, OpenInterest,
    Heartbeat, Gap,
)  # fmt: skip
_RAW: frozenset[type[Event]] = frozenset(_RAW_TYPES)


def finish(state: EngineState) -> tuple[EngineState, list[Event]]:
    """Close everything still open (end of session); the state stays usable afterwards."""
    out: list[Event] = []
    _close_packets(state, NO_DEADLINE, out)
    close_dark(state, NO_DEADLINE, out)
    state.anchors.clear()
    return state, out
