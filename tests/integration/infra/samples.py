"""One hand-built event of every type, for storage and log tests."""

from __future__ import annotations

from schemas.events import (
    Alert,
    BaselineValue,
    ClassifierHit,
    DarkPoolEvent,
    EquityPrint,
    EquityQuote,
    Event,
    FlowPacket,
    Gap,
    Heartbeat,
    MemberPrint,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    PacketLeg,
    PrintInference,
    Quarantined,
    QuoteRef,
)

T0 = 1_700_000_000_000_000_000
SYMBOL = "AAPL  240119C00190000"


def one_of_each_event(run_id: str = "live") -> list[Event]:
    member = MemberPrint(
        instrument_id=7, publisher_id=20, ts_event=T0, sequence=11, price=1_500_000_000,
        size=10, side="buy", bucket="A", nbbo_bid_px=None, nbbo_ask_px=1_500_000_000,
    )  # fmt: skip
    baseline = BaselineValue(
        key="AAPL", metric="premium", value=1_500_000, n=20, mean=1000.0, std=10.0, z=3.5
    )
    leg = PacketLeg(
        instrument_id=7, symbol=SYMBOL, right="C", strike_price=190 * 10**9,
        expiration_date=20240119, side="buy", size=10, premium_cents=1_500_000, n_prints=1,
        venues=[20], vwap_px=1_500_000_000, ratio=1, moneyness=1.02, dte=3, day_volume=10,
        open_interest=100,
    )  # fmt: skip
    common = dict(ts_recv=T0 + 5, ts_event=T0, publisher_id=20, instrument_id=7)
    return [
        OptionContract(**common, source="databento", symbol=SYMBOL, underlying="AAPL",
                       right="C", strike_price=190 * 10**9, expiration=T0 + 10**15),
        OptionPrint(**common, sequence=11, source="databento", symbol=SYMBOL,
                    underlying="AAPL", price=1_500_000_000, size=10),
        OptionQuote(**common, sequence=10, source="databento", symbol=SYMBOL,
                    underlying="AAPL", bid_px=1_400_000_000, ask_px=1_500_000_000,
                    bid_sz=3, ask_sz=4),
        EquityPrint(**common, sequence=1, source="databento", symbol="AAPL", venue="FINN",
                    off_exchange=True, price=190 * 10**9, size=50_000),
        EquityQuote(**common, sequence=2, source="databento", symbol="AAPL", venue="XNAS",
                    bid_px=189 * 10**9, ask_px=191 * 10**9, bid_sz=100, ask_sz=200),
        OpenInterest(**common, sequence=0, source="databento", symbol=SYMBOL,
                     underlying="AAPL", open_interest=1234),
        Heartbeat(ts_recv=T0, source="databento"),
        Gap(ts_recv=T0, source="databento", dropped_trades=3, first_ts_recv=T0 - 10,
            last_ts_recv=T0 - 1, reason="log unreachable"),
        Quarantined(ts_recv=T0, source="databento", reason="unmapped_instrument",
                    detail="instrument_id 99", payload=b"\x01"),
        PrintInference(run_id=run_id, ts_recv=T0 + 5, ts_event=T0, publisher_id=20,
                       instrument_id=7, sequence=11, symbol=SYMBOL, underlying="AAPL",
                       price=1_500_000_000, size=10, side="buy", bucket="A", rule="quote",
                       confidence=0.83, nbbo_status="joined", nbbo_bid_px=1_400_000_000,
                       nbbo_ask_px=1_500_000_000, nbbo_bid_sz=3, nbbo_ask_sz=4,
                       nbbo_ts_recv=T0 + 1),
        FlowPacket(packet_id="pkt-1", run_id=run_id, kind="sweep", structure="",
                   underlying="AAPL", ts_start=T0, ts_end=T0 + 100, ts_recv=T0 + 105,
                   side="buy", premium_cents=1_500_000, size=10, n_prints=1, venues=[20, 30],
                   price_levels=1, legs=[leg], bucket_counts={"A": 1}, aggressor_ratio=1.0,
                   nbbo_coverage=1.0, spot_px=190 * 10**9, members=[member]),
        ClassifierHit(hit_id="hit-1", run_id=run_id, packet_id="pkt-1", rule="sweep",
                      ts_event=T0, ts_recv=T0 + 5, underlying="AAPL", packet_kind="sweep",
                      premium_cents=1_500_000, size=10, score=3.5,
                      thresholds={"min_premium_cents": 4_000_000.0}, baselines=[baseline],
                      members=[member]),
        Alert(alert_id="alert-1", run_id=run_id, packet_id="pkt-1", ts_event=T0,
              ts_recv=T0 + 5, underlying="AAPL", severity=4, score=3.5, rules=["sweep"],
              hit_ids=["hit-1"], title="AAPL call sweep", thresholds={"z": 2.0},
              baselines=[baseline], members=[member]),
        DarkPoolEvent(event_id="dp-1", run_id=run_id, kind="absorbed_block", symbol="AAPL",
                      ts_start=T0, ts_end=T0, ts_recv=T0 + 5, size=50_000,
                      notional_cents=950_000_000, n_prints=1, price_impact_bps=0.5,
                      confidence=0.6, prints=[member],
                      quotes=[QuoteRef(publisher_id=2, ts_recv=T0, bid_px=None, ask_px=1)],
                      caveats="direction unknown"),
    ]  # fmt: skip
