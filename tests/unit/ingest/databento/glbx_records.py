"""Hand-made CME Globex (GLBX.MDP3) records for tests: CL futures and LO options on them."""

from __future__ import annotations

import databento_dbn as dbn

from schemas.events import UNDEF_PRICE
from tests.unit.ingest.dbn_files import T0

GLBX = 1  # GLBX.MDP3.GLBX
CLM5, LOM5_C70, CL_SPREAD = 5001, 6001, 7001
CL_EXPIRY = T0 + 90 * 86_400 * 10**9
BARRELS = 1_000 * 10**9  # unit_of_measure_qty of CL at 1e-9
CENT = 10**7  # CL's tick: $0.01 at 1e-9


def definition(
    iid: int,
    raw_symbol: str,
    instrument_class: str,
    *,
    ts_recv: int = T0 - 1_000,
    asset: str = "CL",
    tick: int = CENT,
    multiplier: int = BARRELS,
    expiration: int = CL_EXPIRY,
    strike: int = UNDEF_PRICE,
    underlying: str = "",
    underlying_id: int = 0,
    cfi: str = "FCAPSO",
) -> dbn.InstrumentDefMsg:
    return dbn.InstrumentDefMsg(
        publisher_id=GLBX,
        instrument_id=iid,
        ts_event=ts_recv - 100,
        ts_recv=ts_recv,
        min_price_increment=tick,
        display_factor=10**9,
        raw_symbol=raw_symbol,
        asset=asset,
        security_type="OOF" if instrument_class in "CP" else "FUT",
        instrument_class=dbn.InstrumentClass(instrument_class),
        security_update_action=dbn.SecurityUpdateAction.ADD,
        expiration=expiration,
        strike_price=strike,
        underlying=underlying,
        underlying_id=underlying_id,
        unit_of_measure_qty=multiplier,
        cfi=cfi,
    )


def future() -> dbn.InstrumentDefMsg:
    return definition(CLM5, "CLM5", "F", cfi="FCAPSO")


def call_option(**changes: object) -> dbn.InstrumentDefMsg:
    fields: dict[str, object] = {
        "asset": "LO",
        "tick": UNDEF_PRICE,
        "strike": 70 * 10**9,
        "underlying": "CLM5",
        "underlying_id": CLM5,
        "cfi": "OCAFPS",
    }
    fields.update(changes)
    return definition(LOM5_C70, "LOM5 C7000", "C", **fields)  # type: ignore[arg-type]


def trade(
    iid: int, ts_recv: int, price: int, size: int = 1, side: str = "B", sequence: int = 1
) -> dbn.TradeMsg:
    return dbn.TradeMsg(
        publisher_id=GLBX,
        instrument_id=iid,
        ts_event=ts_recv - 200,
        price=price,
        size=size,
        action=dbn.Action.TRADE,
        side=dbn.Side(side),
        depth=0,
        ts_recv=ts_recv,
        sequence=sequence,
    )


def top_of_book(iid: int, ts_recv: int, bid: int, ask: int, sequence: int = 1) -> dbn.MBP1Msg:
    return dbn.MBP1Msg(
        publisher_id=GLBX,
        instrument_id=iid,
        ts_event=ts_recv - 100,
        price=bid,
        size=1,
        action=dbn.Action.ADD,
        side=dbn.Side.BID,
        depth=0,
        ts_recv=ts_recv,
        sequence=sequence,
        levels=dbn.BidAskPair(bid_px=bid, ask_px=ask, bid_sz=5, ask_sz=7),
    )


def settlement(iid: int, ts_recv: int, price: int) -> dbn.StatMsg:
    return dbn.StatMsg(
        publisher_id=GLBX,
        instrument_id=iid,
        ts_event=ts_recv - 100,
        ts_recv=ts_recv,
        ts_ref=ts_recv - 100,
        price=price,
        quantity=2**63 - 1,
        sequence=1,
        ts_in_delta=0,
        stat_type=dbn.StatType.SETTLEMENT_PRICE,
        channel_id=0,
        update_action=dbn.StatUpdateAction.NEW,
        stat_flags=1,
    )


def sample(iid: int, ts_recv: int, bid: int, ask: int, ts_event: int) -> dbn.BBOMsg:
    """A `bbo-1s` record; its `ts_event` is the last trade's (undefined before the first)."""
    return dbn.BBOMsg(
        rtype=dbn.RType.BBO_1S,
        publisher_id=GLBX,
        instrument_id=iid,
        ts_event=ts_event,
        price=UNDEF_PRICE,
        size=0,
        side=dbn.Side.NONE,
        ts_recv=ts_recv,
        sequence=1,
        levels=dbn.BidAskPair(bid_px=bid, ask_px=ask, bid_sz=3, ask_sz=4),
    )
