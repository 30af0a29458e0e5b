"""A small hand-built flow session: packets, their prints' inference, hits, alerts, dark pool."""

from __future__ import annotations

from schemas.events import (
    Alert,
    ClassifierHit,
    DarkPoolEvent,
    Event,
    FlowPacket,
    MemberPrint,
    OptionPrint,
    PrintInference,
)
from tests.kit import derived
from tests.kit.events import option_print
from tests.kit.samples import T0

SECOND = 1_000_000_000
DOLLAR = 1_000_000_000  # price scale


def member(ts: int, venue: int, sequence: int, price: int, size: int) -> MemberPrint:
    return derived.member(
        publisher_id=venue, ts_event=ts, sequence=sequence, price=price, size=size,
        nbbo_bid_px=price - DOLLAR // 10, nbbo_ask_px=price,
    )  # fmt: skip


def packet(
    run_id: str, packet_id: str, underlying: str, kind: str, ts: int, premium_cents: int,
    members: list[MemberPrint],
) -> FlowPacket:  # fmt: skip
    return derived.flow_packet(
        packet_id=packet_id, run_id=run_id, underlying=underlying, kind=kind, ts_start=ts,
        ts_end=members[-1].ts_event, ts_recv=members[-1].ts_event + 5,
        premium_cents=premium_cents, size=sum(m.size for m in members), n_prints=len(members),
        venues=sorted({m.publisher_id for m in members}),
        legs=[derived.leg(moneyness=1.02, open_interest=100)], members=members,
    )  # fmt: skip


def inference(run_id: str, underlying: str, m: MemberPrint) -> PrintInference:
    return derived.print_inference(
        run_id=run_id, ts_event=m.ts_event, ts_recv=m.ts_event + 5, publisher_id=m.publisher_id,
        instrument_id=m.instrument_id, sequence=m.sequence, underlying=underlying,
        price=m.price, size=m.size, nbbo_bid_px=m.nbbo_bid_px, nbbo_ask_px=m.nbbo_ask_px,
        nbbo_ts_recv=T0 + 1,
    )  # fmt: skip


def traded(underlying: str, m: MemberPrint) -> OptionPrint:
    """The option print a member stands for (its price, size and symbol live there)."""
    return option_print(
        ts_recv=m.ts_event + 5, ts_event=m.ts_event, publisher_id=m.publisher_id,
        instrument_id=m.instrument_id, sequence=m.sequence, underlying=underlying,
        price=m.price, size=m.size,
    )  # fmt: skip


def hit(run_id: str, hit_id: str, p: FlowPacket, rule: str) -> ClassifierHit:
    return derived.classifier_hit(
        hit_id=hit_id, run_id=run_id, packet_id=p.packet_id, rule=rule, ts_event=p.ts_start,
        ts_recv=p.ts_recv, underlying=p.underlying, packet_kind=p.kind,
        premium_cents=p.premium_cents, size=p.size, members=p.members,
    )  # fmt: skip


def alert(run_id: str, alert_id: str, p: FlowPacket, severity: int, rules: list[str]) -> Alert:
    return derived.alert(
        alert_id=alert_id, run_id=run_id, packet_id=p.packet_id, ts_event=p.ts_start,
        ts_recv=p.ts_recv, underlying=p.underlying, severity=severity, rules=rules,
        title=f"{p.underlying} {'+'.join(rules)}", members=p.members,
    )  # fmt: skip


def darkpool(run_id: str, event_id: str, symbol: str, ts: int, notional: int) -> DarkPoolEvent:
    return derived.darkpool_event(
        event_id=event_id, run_id=run_id, symbol=symbol, ts_start=ts, ts_end=ts, ts_recv=ts + 5,
        notional_cents=notional,
        prints=[derived.member(ts_event=T0, sequence=11, nbbo_bid_px=None)],
        quotes=[derived.quote_ref(ts_recv=T0, bid_px=None, ask_px=1)],
    )  # fmt: skip


def seed_events(run_id: str) -> list[Event]:
    """Three packets (AAPL sweep at T0, MSFT sweep at +30 s, AAPL block at +60 s) with their
    option prints, the inference of the AAPL sweep's two prints, three hits, two alerts, two
    dark-pool events."""
    sweep_members = [member(T0, 20, 11, 15 * DOLLAR // 10, 6),
                     member(T0 + 40_000_000, 30, 12, 15 * DOLLAR // 10, 4)]  # fmt: skip
    aapl_sweep = packet(run_id, "pkt-aapl-sweep", "AAPL", "sweep", T0, 1_500_000, sweep_members)
    msft_sweep = packet(run_id, "pkt-msft-sweep", "MSFT", "sweep", T0 + 30 * SECOND, 400_000,
                        [member(T0 + 30 * SECOND, 20, 21, 2 * DOLLAR, 2)])  # fmt: skip
    aapl_block = packet(run_id, "pkt-aapl-block", "AAPL", "block", T0 + 60 * SECOND, 9_000_000,
                        [member(T0 + 60 * SECOND, 40, 31, 3 * DOLLAR, 300)])  # fmt: skip
    return [
        aapl_sweep, msft_sweep, aapl_block,
        *(traded(p.underlying, m) for p in (aapl_sweep, msft_sweep, aapl_block) for m in p.members),
        *(inference(run_id, "AAPL", m) for m in sweep_members),
        hit(run_id, "hit-aapl-sweep", aapl_sweep, "sweep"),
        hit(run_id, "hit-aapl-block", aapl_block, "block"),
        hit(run_id, "hit-msft-spike", msft_sweep, "spike"),
        alert(run_id, "alert-aapl-sweep", aapl_sweep, 4, ["sweep"]),
        alert(run_id, "alert-msft-spike", msft_sweep, 2, ["spike"]),
        darkpool(run_id, "dp-aapl", "AAPL", T0 + 10 * SECOND, 950_000_000),
        darkpool(run_id, "dp-msft", "MSFT", T0 + 20 * SECOND, 50_000_000),
    ]  # fmt: skip
