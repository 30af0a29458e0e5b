"""Builders of derived events and their nested records: sensible defaults, any field
overridden by keyword.

The defaults continue `tests.kit.events`: the default print read as a buy at the ask, in a
one-print sweep packet that a classifier flagged and that raised an alert. Everything is
built by keyword, so the builders do not depend on the order of the schema's fields.
"""

from __future__ import annotations

from typing import Any

from schemas.events import (
    PRICE_SCALE,
    Alert,
    BaselineValue,
    ClassifierHit,
    DarkPoolEvent,
    FlowPacket,
    MemberPrint,
    OptionPrint,
    PacketLeg,
    PrintInference,
    QuoteRef,
)
from tests.kit.events import STRIKE_PX, SYMBOL, UNDERLYING

RUN_ID = "live"


def member(**fields: Any) -> MemberPrint:
    """The default print as a packet member: a buy at the ask of $1.40 x $1.50."""
    defaults: dict[str, Any] = dict(
        instrument_id=7, publisher_id=20, ts_event=900, sequence=1, price=1_500_000_000,
        size=10, side="buy", bucket="A", nbbo_bid_px=1_400_000_000, nbbo_ask_px=1_500_000_000,
    )  # fmt: skip
    return MemberPrint(**(defaults | fields))


def member_of(trade: OptionPrint, **fields: Any) -> MemberPrint:
    """`trade` as a packet member, with the NBBO it carried (a buy at the ask unless told)."""
    return member(**(_print_fields(trade) | fields))


def leg(**fields: Any) -> PacketLeg:
    """The call bought: one print of 10 lots, $15 000 of premium."""
    defaults: dict[str, Any] = dict(
        instrument_id=7, symbol=SYMBOL, right="C", strike_price=STRIKE_PX,
        expiration_date=20240119, side="buy", size=10, premium_cents=1_500_000, n_prints=1,
        venues=[20], vwap_px=1_500_000_000, ratio=1, moneyness=None, dte=3, day_volume=10,
        open_interest=None,
    )  # fmt: skip
    return PacketLeg(**(defaults | fields))


def baseline(**fields: Any) -> BaselineValue:
    """The underlying's premium baseline behind a z-score."""
    defaults: dict[str, Any] = dict(
        key=UNDERLYING, metric="premium", value=1_500_000, n=20, mean=1000.0, std=10.0, z=3.5
    )
    return BaselineValue(**(defaults | fields))


def print_inference(**fields: Any) -> PrintInference:
    """The default print read as a buy at the ask against the quote received at 990 ns."""
    defaults: dict[str, Any] = dict(
        run_id=RUN_ID, ts_recv=1_000, ts_event=900, publisher_id=20, instrument_id=7,
        sequence=1, symbol=SYMBOL, underlying=UNDERLYING, price=1_500_000_000, size=10,
        side="buy", bucket="A", rule="quote", confidence=0.83, nbbo_status="joined",
        nbbo_bid_px=1_400_000_000, nbbo_ask_px=1_500_000_000, nbbo_bid_sz=3, nbbo_ask_sz=4,
        nbbo_ts_recv=990,
    )  # fmt: skip
    return PrintInference(**(defaults | fields))


def inference_of(trade: OptionPrint, **fields: Any) -> PrintInference:
    """The inference of `trade`, placed against the NBBO it carried (a buy unless told)."""
    own = dict(
        ts_recv=trade.ts_recv, symbol=trade.symbol, underlying=trade.underlying,
        nbbo_bid_sz=trade.bid_sz, nbbo_ask_sz=trade.ask_sz,
    )  # fmt: skip
    return print_inference(**(_print_fields(trade) | own | fields))


def flow_packet(**fields: Any) -> FlowPacket:
    """A one-print sweep of the call, bought, with AAPL at $190."""
    defaults: dict[str, Any] = dict(
        packet_id="pkt-1", run_id=RUN_ID, kind="sweep", structure="", underlying=UNDERLYING,
        ts_start=900, ts_end=900, ts_recv=1_000, side="buy", premium_cents=1_500_000, size=10,
        n_prints=1, venues=[20], price_levels=1, legs=[leg()], bucket_counts={"A": 1},
        aggressor_ratio=1.0, nbbo_coverage=1.0, spot_px=190 * PRICE_SCALE, members=[member()],
    )  # fmt: skip
    return FlowPacket(**(defaults | fields))


def classifier_hit(**fields: Any) -> ClassifierHit:
    """The sweep rule firing on the default packet."""
    defaults: dict[str, Any] = dict(
        hit_id="hit-1", run_id=RUN_ID, packet_id="pkt-1", rule="sweep", ts_event=900,
        ts_recv=1_000, underlying=UNDERLYING, packet_kind="sweep", premium_cents=1_500_000,
        size=10, score=3.5, thresholds={"min_premium_cents": 4_000_000.0},
        baselines=[baseline()], members=[member()],
    )  # fmt: skip
    return ClassifierHit(**(defaults | fields))


def alert(**fields: Any) -> Alert:
    """The alert raised from the default hit."""
    defaults: dict[str, Any] = dict(
        alert_id="alert-1", run_id=RUN_ID, packet_id="pkt-1", ts_event=900, ts_recv=1_000,
        underlying=UNDERLYING, severity=4, score=3.5, rules=["sweep"], hit_ids=["hit-1"],
        title="AAPL call sweep", thresholds={"z": 2.0}, baselines=[baseline()],
        members=[member()],
    )  # fmt: skip
    return Alert(**(defaults | fields))


def quote_ref(**fields: Any) -> QuoteRef:
    """The AAPL quote on Nasdaq, $189 x $191."""
    defaults: dict[str, Any] = dict(
        publisher_id=2, ts_recv=990, bid_px=189 * PRICE_SCALE, ask_px=191 * PRICE_SCALE
    )
    return QuoteRef(**(defaults | fields))


def darkpool_event(**fields: Any) -> DarkPoolEvent:
    """A 50 000-share AAPL block absorbed off exchange."""
    defaults: dict[str, Any] = dict(
        event_id="dp-1", run_id=RUN_ID, kind="absorbed_block", symbol=UNDERLYING, ts_start=900,
        ts_end=900, ts_recv=1_000, size=50_000, notional_cents=950_000_000, n_prints=1,
        price_impact_bps=0.5, confidence=0.6, prints=[], quotes=[quote_ref()],
        caveats="direction unknown",
    )  # fmt: skip
    return DarkPoolEvent(**(defaults | fields))


def _print_fields(trade: OptionPrint) -> dict[str, Any]:
    """What a member and an inference copy from their print."""
    return dict(
        instrument_id=trade.instrument_id, publisher_id=trade.publisher_id,
        ts_event=trade.ts_event, sequence=trade.sequence, price=trade.price, size=trade.size,
        nbbo_bid_px=trade.bid_px, nbbo_ask_px=trade.ask_px,
    )  # fmt: skip
