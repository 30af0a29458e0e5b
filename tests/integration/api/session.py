"""A small hand-built flow session: packets, their prints' inference, hits, alerts, dark pool."""

from __future__ import annotations

import msgspec

from schemas.events import (
    Alert,
    ClassifierHit,
    DarkPoolEvent,
    Event,
    FlowPacket,
    MemberPrint,
    PrintInference,
)
from tests.integration.infra.samples import T0, one_of_each_event

SECOND = 1_000_000_000
DOLLAR = 1_000_000_000  # price scale


def _templates(run_id: str) -> dict[str, Event]:
    return {type(e).__name__: e for e in one_of_each_event(run_id)}


def member(ts: int, venue: int, sequence: int, price: int, size: int) -> MemberPrint:
    return MemberPrint(7, venue, ts, sequence, price, size, "buy", "A",
                       price - DOLLAR // 10, price)  # fmt: skip


def packet(
    run_id: str, packet_id: str, underlying: str, kind: str, ts: int, premium_cents: int,
    members: list[MemberPrint],
) -> FlowPacket:  # fmt: skip
    template = _templates(run_id)["FlowPacket"]
    assert isinstance(template, FlowPacket)
    return msgspec.structs.replace(
        template, packet_id=packet_id, underlying=underlying, kind=kind, ts_start=ts,
        ts_end=members[-1].ts_event, ts_recv=members[-1].ts_event + 5,
        premium_cents=premium_cents, size=sum(m.size for m in members), n_prints=len(members),
        venues=sorted({m.publisher_id for m in members}), members=members,
    )  # fmt: skip


def inference(run_id: str, underlying: str, m: MemberPrint) -> PrintInference:
    template = _templates(run_id)["PrintInference"]
    assert isinstance(template, PrintInference)
    return msgspec.structs.replace(
        template, ts_event=m.ts_event, ts_recv=m.ts_event + 5, publisher_id=m.publisher_id,
        instrument_id=m.instrument_id, sequence=m.sequence, underlying=underlying,
        price=m.price, size=m.size, nbbo_bid_px=m.nbbo_bid_px, nbbo_ask_px=m.nbbo_ask_px,
    )  # fmt: skip


def hit(run_id: str, hit_id: str, p: FlowPacket, rule: str) -> ClassifierHit:
    template = _templates(run_id)["ClassifierHit"]
    assert isinstance(template, ClassifierHit)
    return msgspec.structs.replace(
        template, hit_id=hit_id, packet_id=p.packet_id, rule=rule, ts_event=p.ts_start,
        ts_recv=p.ts_recv, underlying=p.underlying, packet_kind=p.kind,
        premium_cents=p.premium_cents, size=p.size, members=p.members,
    )  # fmt: skip


def alert(run_id: str, alert_id: str, p: FlowPacket, severity: int, rules: list[str]) -> Alert:
    template = _templates(run_id)["Alert"]
    assert isinstance(template, Alert)
    return msgspec.structs.replace(
        template, alert_id=alert_id, packet_id=p.packet_id, ts_event=p.ts_start,
        ts_recv=p.ts_recv, underlying=p.underlying, severity=severity, rules=rules,
        title=f"{p.underlying} {'+'.join(rules)}", members=p.members,
    )  # fmt: skip


def darkpool(run_id: str, event_id: str, symbol: str, ts: int, notional: int) -> DarkPoolEvent:
    template = _templates(run_id)["DarkPoolEvent"]
    assert isinstance(template, DarkPoolEvent)
    return msgspec.structs.replace(
        template, event_id=event_id, symbol=symbol, ts_start=ts, ts_end=ts, ts_recv=ts + 5,
        notional_cents=notional,
    )  # fmt: skip


def seed_events(run_id: str) -> list[Event]:
    """Three packets (AAPL sweep at T0, MSFT sweep at +30 s, AAPL block at +60 s), the
    inference of the AAPL sweep's two prints, three hits, two alerts, two dark-pool events."""
    sweep_members = [member(T0, 20, 11, 15 * DOLLAR // 10, 6),
                     member(T0 + 40_000_000, 30, 12, 15 * DOLLAR // 10, 4)]  # fmt: skip
    aapl_sweep = packet(run_id, "pkt-aapl-sweep", "AAPL", "sweep", T0, 1_500_000, sweep_members)
    msft_sweep = packet(run_id, "pkt-msft-sweep", "MSFT", "sweep", T0 + 30 * SECOND, 400_000,
                        [member(T0 + 30 * SECOND, 20, 21, 2 * DOLLAR, 2)])  # fmt: skip
    aapl_block = packet(run_id, "pkt-aapl-block", "AAPL", "block", T0 + 60 * SECOND, 9_000_000,
                        [member(T0 + 60 * SECOND, 40, 31, 3 * DOLLAR, 300)])  # fmt: skip
    return [
        aapl_sweep, msft_sweep, aapl_block,
        *(inference(run_id, "AAPL", m) for m in sweep_members),
        hit(run_id, "hit-aapl-sweep", aapl_sweep, "sweep"),
        hit(run_id, "hit-aapl-block", aapl_block, "block"),
        hit(run_id, "hit-msft-spike", msft_sweep, "spike"),
        alert(run_id, "alert-aapl-sweep", aapl_sweep, 4, ["sweep"]),
        alert(run_id, "alert-msft-spike", msft_sweep, 2, ["spike"]),
        darkpool(run_id, "dp-aapl", "AAPL", T0 + 10 * SECOND, 950_000_000),
        darkpool(run_id, "dp-msft", "MSFT", T0 + 20 * SECOND, 50_000_000),
    ]  # fmt: skip
