"""Named analytics queries on a small hand-built session with known answers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics.queries import QueryError, list_queries, run_query
from infra.warehouse import Warehouse
from schemas.events import Event, FlowPacket, MemberPrint, OptionPrint, PrintInference
from schemas.occ import format_occ
from tests.conftest import Servers, new_warehouse
from tests.kit.derived import alert, classifier_hit, flow_packet, inference_of, leg, member_of
from tests.kit.events import equity_print, open_interest, option_print

RUN = "qtest"
DAY = 1_704_240_000 * 10**9  # 2024-01-03 00:00 UTC
S = 10**9
AT = DAY + (14 * 3600 + 30 * 60) * S  # 14:30:00
CALL = format_occ("AAPL", 20240119, "C", 190 * S)
PUT = format_occ("AAPL", 20240119, "P", 180 * S)
SPY = format_occ("SPY", 20240119, "C", 470 * S)
DOLLAR = S  # one dollar at the 1e-9 price scale


def _print(symbol: str, iid: int, seq: int, ts: int, price: int, size: int) -> OptionPrint:
    return option_print(
        ts_recv=ts, ts_event=ts - 100, publisher_id=20 + seq % 3, instrument_id=iid,
        sequence=seq, source="synthetic", symbol=symbol, underlying=symbol.split()[0],
        price=price, size=size,
    )  # fmt: skip


PRINTS = [
    _print(CALL, 1, 1, AT + 5 * S, DOLLAR, 10),  # 100_000 cents
    _print(CALL, 1, 2, AT + 20 * S, 12 * DOLLAR // 10, 5),  # 60_000
    _print(CALL, 1, 3, AT + 40 * S, 9 * DOLLAR // 10, 20),  # 180_000
    _print(CALL, 1, 4, AT + 70 * S, 11 * DOLLAR // 10, 100),  # 1_100_000
    _print(PUT, 2, 5, AT + 30 * S, 2 * DOLLAR, 30),  # 600_000
    _print(SPY, 3, 6, AT + 120 * S, 3 * DOLLAR, 50),  # 1_500_000
]
SIDES = ["buy", "buy", "sell", "buy", "sell", "unknown"]


def _inference(p: OptionPrint, side: str) -> PrintInference:
    return inference_of(
        p, run_id=RUN, side=side, bucket="A", rule="quote", confidence=0.83,
        nbbo_status="joined", nbbo_bid_px=p.price - 10**7, nbbo_ask_px=p.price, nbbo_bid_sz=1,
        nbbo_ask_sz=2, nbbo_ts_recv=p.ts_recv - 1,
    )  # fmt: skip


def _member(p: OptionPrint) -> MemberPrint:
    return member_of(p, side="buy", bucket="A", nbbo_bid_px=p.price - 10**7, nbbo_ask_px=p.price)


def _packet(pid: str, kind: str, symbol: str, side: str, premium: int, members: list) -> FlowPacket:
    the_leg = leg(
        instrument_id=1, symbol=symbol, right="C", strike_price=190 * S,
        expiration_date=20240119, side=side, size=10, premium_cents=premium, n_prints=1,
        venues=[20], vwap_px=DOLLAR, ratio=1, moneyness=None, dte=16, day_volume=0,
        open_interest=None,
    )  # fmt: skip
    ts = AT + int(pid[1:]) * S
    return flow_packet(
        packet_id=pid, run_id=RUN, kind=kind, structure="", underlying=symbol.split()[0],
        ts_start=ts, ts_end=ts + 100, ts_recv=ts + 200, side=side, premium_cents=premium,
        size=10, n_prints=max(1, len(members)), venues=[20, 21], price_levels=1,
        legs=[the_leg], bucket_counts={"A": 1}, aggressor_ratio=1.0, nbbo_coverage=1.0,
        spot_px=None, members=[_member(p) for p in members],
    )  # fmt: skip


PACKETS = [
    _packet("p1", "sweep", CALL, "buy", 5_000_000, PRINTS[:3]),
    _packet("p2", "sweep", CALL, "buy", 3_000_000, []),
    _packet("p3", "sweep", CALL, "buy", 1_000_000, []),
    _packet("p4", "sweep", PUT, "sell", 2_000_000, []),
    _packet("p5", "block", SPY, "buy", 9_000_000, []),
]
HIT = classifier_hit(
    hit_id="h1", run_id=RUN, packet_id="p1", rule="sweep", ts_event=AT + 50 * S,
    ts_recv=AT + 51 * S, underlying="AAPL", packet_kind="sweep", premium_cents=5_000_000,
    size=35, score=2.5, thresholds={"min_premium": 40000.0}, baselines=[], members=[],
)  # fmt: skip
ALERT = alert(
    alert_id="a1", run_id=RUN, packet_id="p1", ts_event=AT + 52 * S, ts_recv=AT + 53 * S,
    underlying="AAPL", severity=4, score=2.5, rules=["sweep", "spike"], hit_ids=["h1"],
    title="AAPL call sweep", thresholds={}, baselines=[], members=[],
)  # fmt: skip
OPEN_INTEREST = [
    open_interest(ts_recv=DAY + S, ts_event=DAY, publisher_id=20, instrument_id=1, sequence=0,
                  source="synthetic", symbol=CALL, underlying="AAPL", open_interest=90),
    open_interest(ts_recv=DAY + 2 * S, ts_event=DAY, publisher_id=21, instrument_id=1,
                  sequence=0, source="synthetic", symbol=CALL, underlying="AAPL",
                  open_interest=100),
    open_interest(ts_recv=DAY + S, ts_event=DAY, publisher_id=20, instrument_id=2, sequence=0,
                  source="synthetic", symbol=PUT, underlying="AAPL", open_interest=200),
]  # fmt: skip
SPOT = equity_print(
    ts_recv=AT + 61 * S, ts_event=AT + 61 * S, publisher_id=40, instrument_id=100, sequence=1,
    source="synthetic", symbol="AAPL", venue="XNAS", off_exchange=False, price=185 * S, size=100,
)  # fmt: skip


def _utc(seconds_after_at: int) -> datetime:
    return datetime.fromtimestamp((AT + seconds_after_at * S) // S, UTC).replace(tzinfo=None)


@pytest.fixture(scope="module")
def session_db(servers: Servers) -> Iterator[Warehouse]:
    wh = new_warehouse(servers)
    events: list[Event] = [*PRINTS, *OPEN_INTEREST, SPOT]
    events += [_inference(p, side) for p, side in zip(PRINTS, SIDES, strict=True)]
    events += [*PACKETS, HIT, ALERT]
    wh.insert_events(events, run_id=RUN, log_seq=1)
    yield wh
    wh.command(f"DROP DATABASE IF EXISTS `{wh.database}`")
    wh.close()


def _rows(wh: Warehouse, name: str, **params: object) -> list[dict[str, object]]:
    columns, rows = run_query(wh, name, {"run_id": RUN, **params})
    return [dict(zip(columns, row, strict=True)) for row in rows]


def test_the_named_queries_the_api_relies_on_exist_with_typed_parameters() -> None:
    queries = {q.name: q for q in list_queries()}
    assert {"top_premium_packets", "net_premium_by_minute", "unusual_volume",
            "repeated_sweeps", "packet_evidence", "candles"} <= set(queries)  # fmt: skip
    assert queries["packet_evidence"].params == {"run_id": "String", "packet_id": "String"}
    assert all(q.description for q in queries.values())


def test_a_query_refuses_unknown_and_missing_parameters(session_db: Warehouse) -> None:
    with pytest.raises(QueryError, match="unknown"):
        run_query(session_db, "top_premium_packets", {"colour": "red"})
    with pytest.raises(QueryError, match="packet_id"):
        run_query(session_db, "packet_evidence", {})
    with pytest.raises(QueryError, match="no named query"):
        run_query(session_db, "drop_everything", {})


def test_top_premium_packets_are_ordered_by_premium_and_limited(session_db: Warehouse) -> None:
    rows = _rows(session_db, "top_premium_packets", limit=3)
    assert [(r["packet_id"], r["premium_cents"]) for r in rows] == [
        ("p5", 9_000_000), ("p1", 5_000_000), ("p2", 3_000_000),
    ]  # fmt: skip
    aapl = _rows(session_db, "top_premium_packets", underlying="AAPL", day="2024-01-03")
    assert [r["packet_id"] for r in aapl] == ["p1", "p2", "p4", "p3"]
    assert _rows(session_db, "top_premium_packets", day="2024-01-04") == []


def test_net_premium_by_minute_nets_bought_against_sold_per_right(
    session_db: Warehouse,
) -> None:
    rows = _rows(session_db, "net_premium_by_minute", underlying="AAPL")
    assert [(r["minute"], r["net_call_cents"], r["net_put_cents"], r["prints"]) for r in rows] == [
        (_utc(0), 100_000 + 60_000 - 180_000, -600_000, 4),
        (_utc(60), 1_100_000, 0, 1),
    ]  # fmt: skip
    spy = _rows(session_db, "net_premium_by_minute", underlying="SPY")
    assert [(r["net_call_cents"], r["unknown_side_cents"]) for r in spy] == [(0, 1_500_000)]


def test_unusual_volume_lists_contracts_trading_more_than_their_open_interest(
    session_db: Warehouse,
) -> None:
    rows = _rows(session_db, "unusual_volume")
    assert [(r["symbol"], r["volume"], r["open_interest"], r["volume_oi_ratio"]) for r in rows] == [
        (CALL, 135, 100, 1.35),  # the latest of the venues' values; the put (30/200) is not
    ]  # fmt: skip
    assert _rows(session_db, "unusual_volume", min_ratio="0.1") == [
        rows[0], {**rows[0], "symbol": PUT, "volume": 30, "open_interest": 200,
                  "volume_oi_ratio": 0.15, "trades": 1, "premium_cents": 600_000},
    ]  # fmt: skip


def test_repeated_sweeps_need_the_minimum_count_on_one_contract_and_side(
    session_db: Warehouse,
) -> None:
    rows = _rows(session_db, "repeated_sweeps")
    assert [(r["symbol"], r["side"], r["sweeps"], r["premium_cents"], r["packet_ids"])
            for r in rows] == [(CALL, "buy", 3, 9_000_000, ["p1", "p2", "p3"])]  # fmt: skip
    assert len(_rows(session_db, "repeated_sweeps", min_sweeps=1)) == 2


def test_packet_evidence_shows_member_prints_with_their_nbbo_then_hits_and_alerts(
    session_db: Warehouse,
) -> None:
    rows = _rows(session_db, "packet_evidence", packet_id="p1")
    assert [r["item"] for r in rows] == ["print", "print", "print", "hit", "alert"]
    first = rows[0]
    assert (first["id"], first["price"], first["size"], first["nbbo_bid_px"],
            first["nbbo_ask_px"], first["nbbo_status"], first["confidence"]) == (
        "1", DOLLAR, 10, DOLLAR - 10**7, DOLLAR, "joined", 0.83,
    )  # fmt: skip
    assert (rows[3]["id"], rows[3]["rules"], rows[3]["score"]) == ("h1", "sweep", 2.5)
    assert (rows[4]["id"], rows[4]["severity"], rows[4]["rules"], rows[4]["title"]) == (
        "a1", 4, "sweep,spike", "AAPL call sweep",
    )  # fmt: skip
    assert _rows(session_db, "packet_evidence", packet_id="nope") == []


def test_candles_give_ohlc_volume_and_premium_per_interval(session_db: Warehouse) -> None:
    rows = _rows(session_db, "candles", symbol=CALL, interval="1m")
    assert [tuple(r.values()) for r in rows] == [
        (_utc(0), DOLLAR, 12 * DOLLAR // 10, 9 * DOLLAR // 10, 9 * DOLLAR // 10, 35, 3, 340_000),
        (_utc(60), *[11 * DOLLAR // 10] * 4, 100, 1, 1_100_000),
    ]  # fmt: skip
    [day] = _rows(session_db, "candles", symbol=CALL, interval="1d")
    assert (day["open"], day["close"], day["volume"]) == (DOLLAR, 11 * DOLLAR // 10, 135)
    with pytest.raises(QueryError, match="interval"):
        _rows(session_db, "candles", symbol=CALL, interval="7m")


def test_one_second_candles_come_from_the_prints_themselves(session_db: Warehouse) -> None:
    rows = _rows(session_db, "candles", symbol=CALL, interval="1s")
    assert [(r["bucket"], r["open"], r["volume"], r["premium_cents"]) for r in rows] == [
        (_utc(5), DOLLAR, 10, 100_000), (_utc(20), 12 * DOLLAR // 10, 5, 60_000),
        (_utc(40), 9 * DOLLAR // 10, 20, 180_000), (_utc(70), 11 * DOLLAR // 10, 100, 1_100_000),
    ]  # fmt: skip
    stored = session_db.rows("SELECT DISTINCT interval_s FROM candles_contract")
    assert stored == [(60,)]  # only minute rows are kept
    seconds = _rows(session_db, "underlying_activity", underlying="AAPL", interval="1s")
    assert [(r["bucket"], r["call_volume"], r["put_volume"]) for r in seconds] == [
        (_utc(5), 10, 0), (_utc(20), 5, 0), (_utc(30), 0, 30), (_utc(40), 20, 0),
        (_utc(70), 100, 0),
    ]  # fmt: skip


def test_underlying_activity_splits_calls_and_puts_beside_the_spot_candle(
    session_db: Warehouse,
) -> None:
    [bucket] = _rows(session_db, "underlying_activity", underlying="AAPL", interval="5m")
    figures = ("trades", "volume", "call_volume", "put_volume", "spot_open", "spot_volume")
    assert tuple(bucket[f] for f in figures) == (5, 165, 135, 30, 185 * S, 100)


def test_flow_by_day_counts_packets_sweeps_hits_and_alerts(session_db: Warehouse) -> None:
    rows = _rows(session_db, "flow_by_day")
    summary = {r["underlying"]: (r["packets"], r["sweeps"], r["blocks"], r["hits"], r["alerts"],
                                 r["max_alert_severity"]) for r in rows}  # fmt: skip
    assert summary == {"AAPL": (4, 4, 0, 1, 1, 4), "SPY": (1, 0, 1, 0, 0, 0)}


def test_the_cli_runs_a_named_query_with_params(
    session_db: Warehouse, servers: Servers, tmp_path: Path
) -> None:
    env = {**os.environ, **servers.environment(), "CLICKHOUSE_DATABASE": session_db.database,
           "FLOWTAPE_DATA_DIR": str(tmp_path)}  # fmt: skip
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "sql", "--name", "top_premium_packets",
         "--param", f"run_id={RUN}", "--param", "limit=2", "--format", "json"],
        env=env, capture_output=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    assert [row["packet_id"] for row in json.loads(done.stdout)] == ["p5", "p1"]
