"""A hand-built session of raw and derived events, published as the services would, and
the checks that a database holds exactly those events and that the views agree with them."""

# Seeded test data, and SQL assembled from constants of this module:
# ruff: noqa: S311, S608

from __future__ import annotations

import random
from dataclasses import dataclass, field

from infra.bus import Bus
from infra.warehouse import EVENT_TABLES, Warehouse
from schemas.events import (
    Alert,
    ClassifierHit,
    DarkPoolEvent,
    EquityPrint,
    EquityQuote,
    Event,
    FlowPacket,
    Gap,
    Heartbeat,
    OpenInterest,
    OptionContract,
    OptionPrint,
    OptionQuote,
    PrintInference,
    Quarantined,
)
from schemas.occ import format_occ
from schemas.subjects import DERIVED_STREAM, RAW_STREAM, derived_subject, raw_subject
from tests.kit.derived import (
    alert,
    baseline,
    classifier_hit,
    darkpool_event,
    flow_packet,
    inference_of,
    leg,
    member_of,
    quote_ref,
)
from tests.kit.events import (
    equity_print,
    equity_quote,
    gap,
    heartbeat,
    open_interest,
    option_contract,
    option_print,
    option_quote,
    quarantined,
)

# 23:30 UTC: the session runs across midnight, so some messages span two day partitions.
T0 = 1_704_238_200 * 10**9  # 2024-01-02 23:30:00 UTC
UNDERLYINGS = ("AAPL", "SPY")
SPOT = {"AAPL": 185 * 10**9, "SPY": 470 * 10**9}


@dataclass
class Message:
    stream: str
    subject: str
    run_id: str
    events: list[Event]
    seq: int = 0


@dataclass
class Session:
    messages: list[Message] = field(default_factory=list)

    def add(self, stream: str, subject: str, run_id: str, events: list[Event]) -> None:
        if events:
            self.messages.append(Message(stream, subject, run_id, events))

    def rows_expected(self) -> int:
        return sum(len(m.events) for m in self.messages)


def build_session(
    *, seed: int = 7, prints: int = 1200, run_id: str = "live", batch: int = 40,
    span_s: int = 3600,
) -> Session:  # fmt: skip
    """Contracts, quotes, prints, equity tape, open interest, gaps, quarantined input and
    heartbeats on RAW; per-print inference, packets (with members), hits, alerts and dark-pool
    events on DERIVED. Deterministic for a seed."""
    rng = random.Random(seed)
    session = Session()
    contracts: list[OptionContract] = []
    for underlying in UNDERLYINGS:
        for k in range(6):
            right = "C" if k % 2 == 0 else "P"
            strike = SPOT[underlying] + (k // 2 - 1) * 5 * 10**9
            contracts.append(
                option_contract(
                    ts_recv=T0, ts_event=T0, publisher_id=20, instrument_id=len(contracts) + 1,
                    source="synthetic", symbol=format_occ(underlying, 20240119, right, strike),
                    underlying=underlying, right=right, strike_price=strike,
                    expiration=1_705_622_400 * 10**9,
                )
            )  # fmt: skip
    session.add(RAW_STREAM, raw_subject(OptionContract, "synthetic"), run_id, list(contracts))
    oi = [
        open_interest(
            ts_recv=T0 + day * 3_600 * 10**9 + venue, ts_event=T0, publisher_id=venue,
            instrument_id=c.instrument_id, sequence=venue, source="synthetic", symbol=c.symbol,
            underlying=c.underlying, open_interest=100 + 50 * day + c.instrument_id,
        )
        for day in (0, 1) for c in contracts for venue in (20, 21)
    ]  # fmt: skip
    session.add(RAW_STREAM, raw_subject(OpenInterest, "synthetic"), run_id, oi)

    option_prints: list[OptionPrint] = []
    quotes: list[OptionQuote] = []
    for n in range(prints):
        c = rng.choice(contracts)
        ts = T0 + int(n * span_s * 10**9 / prints) + rng.randrange(1000)
        bid = rng.randrange(100, 900) * 10**7
        ask = bid + rng.randrange(1, 20) * 10**7
        quotes.append(
            option_quote(
                ts_recv=ts - 1000, ts_event=ts - 2000, publisher_id=20,
                instrument_id=c.instrument_id, sequence=2 * n, source="synthetic",
                symbol=c.symbol, underlying=c.underlying, bid_px=bid, ask_px=ask,
                bid_sz=rng.randrange(1, 50), ask_sz=rng.randrange(1, 50),
                bid_pb=None if n % 7 == 0 else 20, ask_pb=21,
            )
        )  # fmt: skip
        option_prints.append(
            option_print(
                ts_recv=ts, ts_event=ts - 500, publisher_id=rng.choice((20, 21, 22, 23)),
                instrument_id=c.instrument_id, sequence=2 * n + 1, source="synthetic",
                symbol=c.symbol, underlying=c.underlying,
                price=rng.choice((bid, ask, (bid + ask) // 2)), size=rng.randrange(1, 500),
                bid_px=bid if n % 5 else None, ask_px=ask if n % 5 else None,
                bid_sz=10 if n % 5 else None, ask_sz=12 if n % 5 else None,
            )
        )  # fmt: skip
    for start in range(0, prints, batch):
        session.add(RAW_STREAM, raw_subject(OptionQuote, "synthetic"), run_id,
                    list(quotes[start:start + batch]))  # fmt: skip
        session.add(RAW_STREAM, raw_subject(OptionPrint, "synthetic"), run_id,
                    list(option_prints[start:start + batch]))  # fmt: skip

    equity: list[Event] = []
    for n in range(prints // 4):
        u = UNDERLYINGS[n % 2]
        ts = T0 + int(n * 4 * span_s * 10**9 / prints)
        px = SPOT[u] + rng.randrange(-100, 100) * 10**7
        equity.append(
            equity_print(
                ts_recv=ts, ts_event=ts - 10, publisher_id=40 + n % 3, instrument_id=100 + n % 2,
                sequence=n, source="synthetic", symbol=u, venue="FINN" if n % 3 == 0 else "XNAS",
                off_exchange=n % 3 == 0, price=px, size=rng.randrange(1, 5000),
            )
        )  # fmt: skip
        equity.append(
            equity_quote(
                ts_recv=ts + 1, ts_event=ts, publisher_id=40, instrument_id=100 + n % 2,
                sequence=n, source="synthetic", symbol=u, venue="XNAS", bid_px=px - 10**7,
                ask_px=px + 10**7, bid_sz=100, ask_sz=200,
            )
        )  # fmt: skip
    for start in range(0, len(equity), 2 * batch):
        chunk = equity[start : start + 2 * batch]
        session.add(RAW_STREAM, raw_subject(EquityPrint, "synthetic"), run_id,
                    [e for e in chunk if isinstance(e, EquityPrint)])  # fmt: skip
        session.add(RAW_STREAM, raw_subject(EquityQuote, "synthetic"), run_id,
                    [e for e in chunk if isinstance(e, EquityQuote)])  # fmt: skip
    session.add(RAW_STREAM, raw_subject(Heartbeat, "synthetic"), run_id,
                [heartbeat(ts_recv=T0 + i, source="synthetic") for i in range(3)])  # fmt: skip
    session.add(RAW_STREAM, raw_subject(Gap, "synthetic"), run_id, [
        gap(ts_recv=T0 + 5, source="synthetic", dropped_trades=3, first_ts_recv=T0,
            last_ts_recv=T0 + 4, reason="log unreachable"),
    ])  # fmt: skip
    session.add(RAW_STREAM, raw_subject(Quarantined, "synthetic"), run_id, [
        quarantined(ts_recv=T0 + 6, source="synthetic", reason="unmapped_instrument",
                    detail="instrument_id 99", payload=b"\x01\x02"),
    ])  # fmt: skip

    _add_derived(session, rng, run_id, option_prints, contracts, batch)
    return session


def _add_derived(
    session: Session, rng: random.Random, run_id: str, option_prints: list[OptionPrint],
    contracts: list[OptionContract], batch: int,
) -> None:  # fmt: skip
    sides = [rng.choice(("buy", "sell", "unknown")) for _ in option_prints]
    inference = [
        inference_of(
            p, run_id=run_id, side=side, bucket="A" if side == "buy" else "B", rule="quote",
            confidence=0.83, nbbo_status="print" if p.bid_px is not None else "missing",
            nbbo_ts_recv=None,
        )
        for p, side in zip(option_prints, sides, strict=True)
    ]  # fmt: skip
    for start in range(0, len(inference), batch):
        session.add(DERIVED_STREAM, derived_subject(PrintInference), run_id,
                    list(inference[start:start + batch]))  # fmt: skip

    by_symbol = {c.instrument_id: c for c in contracts}
    packets: list[FlowPacket] = []
    hits: list[ClassifierHit] = []
    alerts: list[Alert] = []
    index = 0
    while index < len(option_prints):
        group = option_prints[index : index + rng.randrange(1, 6)]
        index += len(group)
        first = group[0]
        c = by_symbol[first.instrument_id]
        side = sides[index - 1]
        premium = sum(p.price * p.size // 10**5 for p in group)
        kind = "sweep" if len(group) >= 3 else ("block" if first.size > 400 else "single")
        packet_id = f"pkt-{len(packets)}"
        members = [member_of(p, side=side, bucket="A") for p in group]
        packet_leg = leg(
            instrument_id=c.instrument_id, symbol=c.symbol, right=c.right,
            strike_price=c.strike_price, expiration_date=20240119, side=side,
            size=sum(p.size for p in group), premium_cents=premium, n_prints=len(group),
            venues=sorted({p.publisher_id for p in group}), vwap_px=first.price, ratio=1,
            moneyness=1.01, dte=16, day_volume=1000, open_interest=None,
        )  # fmt: skip
        packets.append(
            flow_packet(
                packet_id=packet_id, run_id=run_id, kind=kind, structure="",
                underlying=c.underlying, ts_start=first.ts_recv, ts_end=group[-1].ts_recv,
                ts_recv=group[-1].ts_recv + 1,
                side=side, premium_cents=premium, size=sum(p.size for p in group),
                n_prints=len(group), venues=sorted({p.publisher_id for p in group}),
                price_levels=len({p.price for p in group}), legs=[packet_leg],
                bucket_counts={"A": len(group)}, aggressor_ratio=0.75, nbbo_coverage=0.8,
                spot_px=SPOT[c.underlying] if len(packets) % 4 else None, members=members,
            )
        )  # fmt: skip
        if kind == "sweep" or (kind == "single" and len(packets) % 7 == 0):
            premium_baseline = baseline(key=c.underlying, metric="premium", value=premium,
                                        n=20, mean=1000.0, std=10.0, z=2.5)  # fmt: skip
            hit = classifier_hit(
                hit_id=f"hit-{len(hits)}", run_id=run_id, packet_id=packet_id,
                rule="sweep" if kind == "sweep" else "spike",
                ts_event=first.ts_event, ts_recv=first.ts_recv + 2, underlying=c.underlying,
                packet_kind=kind, premium_cents=premium, size=packets[-1].size, score=2.5,
                thresholds={"min_premium": 40000.0}, baselines=[premium_baseline], members=members,
            )  # fmt: skip
            hits.append(hit)
            if len(hits) % 2:
                alerts.append(
                    alert(
                        alert_id=f"alert-{len(alerts)}", run_id=run_id, packet_id=packet_id,
                        ts_event=first.ts_event, ts_recv=first.ts_recv + 3,
                        underlying=c.underlying, severity=1 + len(alerts) % 5, score=2.5,
                        rules=["sweep"], hit_ids=[hit.hit_id], title=f"{c.underlying} sweep",
                        thresholds={"z": 2.0}, baselines=[premium_baseline], members=members,
                    )
                )  # fmt: skip
    # As the compute service publishes a batch: its packets, then the hits and alerts on them
    step = max(1, batch // 4)
    for start in range(0, len(packets), step):
        chunk = packets[start : start + step]
        ids = {p.packet_id for p in chunk}
        session.add(DERIVED_STREAM, derived_subject(FlowPacket), run_id, list(chunk))
        for items, event_type in ((hits, ClassifierHit), (alerts, Alert)):
            named: list[Event] = [e for e in items if e.packet_id in ids]
            if named:
                session.add(DERIVED_STREAM, derived_subject(event_type), run_id, named)
    darkpool = [
        darkpool_event(
            event_id=f"dp-{n}", run_id=run_id, kind="absorbed_block", symbol=UNDERLYINGS[n % 2],
            ts_start=T0 + n * 10**9, ts_end=T0 + n * 10**9 + 5, ts_recv=T0 + n * 10**9 + 6,
            size=50_000, notional_cents=950_000_000, n_prints=1,
            price_impact_bps=None if n % 2 else 0.5, confidence=0.6, prints=[],
            quotes=[quote_ref(publisher_id=2, ts_recv=T0, bid_px=None, ask_px=1)],
            caveats="direction unknown",
        )
        for n in range(8)
    ]  # fmt: skip
    session.add(DERIVED_STREAM, derived_subject(DarkPoolEvent), run_id, darkpool)


async def publish(bus: Bus, session: Session) -> None:
    """Publish every message (acknowledged) and note its stream sequence."""
    for message in session.messages:
        sequences = await bus.publish(message.subject, message.events, run_id=message.run_id)
        assert len(sequences) == 1, "a test message is expected to fit one JetStream message"
        message.seq = sequences[0]


def store_reference(reference: Warehouse, session: Session) -> None:
    """What the sink should produce: every published event inserted directly, once; a lone
    single that a hit or an alert flags is stored with the first message that names it."""
    naming: dict[str, int] = {}
    for message in session.messages:
        for event in message.events:
            if isinstance(event, ClassifierHit | Alert):
                naming.setdefault(event.packet_id, message.seq)
    by_run: dict[str, tuple[list[Event], list[int]]] = {}
    for message in session.messages:
        events, seqs = by_run.setdefault(message.run_id, ([], []))
        for event in message.events:
            events.append(event)
            if isinstance(event, FlowPacket) and event.kind == "single" and event.n_prints == 1:
                seqs.append(naming.get(event.packet_id, message.seq))
            else:
                seqs.append(message.seq)
    for run_id, (events, seqs) in by_run.items():
        reference.insert_events(events, run_id=run_id, log_seq=seqs)


def digests(warehouse: Warehouse, tables: tuple[str, ...] = EVENT_TABLES) -> dict[str, tuple]:
    """Per table: row count (no FINAL) and a content hash over every column."""
    return {
        table: tuple(warehouse.rows(f"SELECT count(), sum(cityHash64(tuple(*))) FROM `{table}`")[0])
        for table in tables
    }


INTERVALS = "[60]"
_BUCKET = "toDateTime(intDiv(toUnixTimestamp(ts_recv), interval_s) * interval_s, 'UTC')"
_CENTS = "toInt64(intDiv(toInt128(price) * size, 100000))"

# Each materialised view, read back, next to the same figures recomputed from its source.
VIEW_CHECKS: dict[str, tuple[str, str]] = {
    "candles_contract": (
        "SELECT run_id, interval_s, symbol, bucket, min(open).price, max(high), min(low), "
        "max(close).price, sum(volume), sum(trades), sum(premium_cents) FROM candles_contract "
        "GROUP BY run_id, interval_s, symbol, bucket ORDER BY ALL",
        f"SELECT run_id, interval_s, symbol, {_BUCKET} AS b, "
        "argMin(price, (ts_recv, publisher_id, instrument_id, sequence)), max(price), "
        "min(price), argMax(price, (ts_recv, publisher_id, instrument_id, sequence)), "
        f"sum(size), count(), sum({_CENTS}) FROM option_prints ARRAY JOIN {INTERVALS} AS "
        "interval_s GROUP BY run_id, interval_s, symbol, b ORDER BY ALL",
    ),
    "candles_underlying": (
        "SELECT run_id, interval_s, underlying, bucket, sum(trades), sum(volume), "
        "sum(premium_cents), sum(call_volume), sum(put_volume) FROM candles_underlying "
        "GROUP BY ALL ORDER BY ALL",
        f"SELECT run_id, interval_s, underlying, {_BUCKET} AS b, count(), sum(size), "
        f"sum({_CENTS}), sumIf(size, endsWith(substring(symbol, 1, 13), 'C')), "
        "sumIf(size, endsWith(substring(symbol, 1, 13), 'P')) FROM option_prints "
        f"ARRAY JOIN {INTERVALS} AS interval_s GROUP BY ALL ORDER BY ALL",
    ),
    "candles_equity": (
        "SELECT run_id, interval_s, symbol, bucket, min(open).price, max(high), min(low), "
        "max(close).price, sum(volume), sum(off_exchange_volume), sum(trades) "
        "FROM candles_equity GROUP BY ALL ORDER BY ALL",
        f"SELECT run_id, interval_s, symbol, {_BUCKET} AS b, "
        "argMin(price, (ts_recv, publisher_id, sequence)), max(price), min(price), "
        "argMax(price, (ts_recv, publisher_id, sequence)), sum(size), "
        f"sumIf(size, off_exchange), count() FROM equity_prints ARRAY JOIN {INTERVALS} AS "
        "interval_s GROUP BY ALL ORDER BY ALL",
    ),
    "net_premium_minute": (
        "SELECT run_id, underlying, minute, sum(prints), sum(call_buy_cents), "
        "sum(call_sell_cents), sum(put_buy_cents), sum(put_sell_cents), "
        "sum(call_unknown_cents) + sum(put_unknown_cents) FROM net_premium_minute "
        "GROUP BY ALL ORDER BY ALL",
        "SELECT run_id, underlying, toStartOfMinute(ts_event) AS m, count(), "
        "sumIf(cents, occ_right = 'C' AND side = 'buy'), "
        "sumIf(cents, occ_right = 'C' AND side = 'sell'), "
        "sumIf(cents, occ_right = 'P' AND side = 'buy'), "
        "sumIf(cents, occ_right = 'P' AND side = 'sell'), sumIf(cents, side = 'unknown') "
        "FROM print_inference INNER JOIN (SELECT run_id, instrument_id, publisher_id, "
        f"ts_event, sequence, {_CENTS} AS cents, substring(symbol, 13, 1) AS occ_right "
        "FROM option_prints) AS o USING (run_id, instrument_id, publisher_id, ts_event, "
        "sequence) GROUP BY ALL ORDER BY ALL",
    ),
    "contract_volume_vs_oi": (
        "SELECT run_id, date, symbol, volume, open_interest FROM contract_volume_vs_oi "
        "ORDER BY ALL",
        "SELECT v.run_id, v.d, v.symbol, v.volume, "
        "if(o.symbol = '', NULL, o.oi) FROM (SELECT run_id, toDate(ts_recv) AS d, symbol, "
        "sum(size) AS volume FROM option_prints GROUP BY ALL) AS v LEFT JOIN (SELECT run_id, "
        "toDate(ts_recv) AS d, symbol, argMax(open_interest, ts_recv) AS oi FROM open_interest "
        "GROUP BY ALL) AS o ON o.run_id = v.run_id AND o.d = v.d AND o.symbol = v.symbol "
        "ORDER BY ALL",
    ),
    "flow_daily": (
        "SELECT run_id, underlying, date, sum(packets), sum(packet_premium_cents), "
        "sum(sweeps), sum(sweep_premium_cents), sum(blocks), sum(hits), sum(alerts), "
        "max(max_alert_severity) FROM flow_daily GROUP BY ALL ORDER BY ALL",
        "SELECT run_id, underlying, d, sum(packets), sum(premium), sum(sweeps), "
        "sum(sweep_premium), sum(blocks), sum(hits), sum(alerts), max(severity) FROM ("
        "SELECT run_id, underlying, toDate(ts_start) AS d, 1 AS packets, premium_cents AS "
        "premium, kind = 'sweep' AS sweeps, if(kind = 'sweep', premium_cents, 0) AS "
        "sweep_premium, kind = 'block' AS blocks, 0 AS hits, 0 AS alerts, 0 AS severity "
        "FROM flow_packets UNION ALL SELECT run_id, underlying, toDate(ts_event), 0, 0, 0, 0, "
        "0, 1, 0, 0 FROM classifier_hits UNION ALL SELECT run_id, underlying, "
        "toDate(ts_event), 0, 0, 0, 0, 0, 0, 1, severity FROM alerts) GROUP BY ALL ORDER BY ALL",
    ),
}


def assert_views_match_base_tables(warehouse: Warehouse) -> None:
    for view, (stored, recomputed) in VIEW_CHECKS.items():
        got = warehouse.rows(stored)
        want = warehouse.rows(recomputed)
        assert got, f"{view} is empty"
        assert [tuple(r) for r in got] == [tuple(r) for r in want], view
