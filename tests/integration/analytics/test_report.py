from pathlib import Path

import msgspec
import polars as pl

from analytics.report import build_report
from infra.warehouse import Warehouse
from schemas.events import Alert, EquityPrint, Event, FlowPacket
from tests.kit.events import equity_print
from tests.kit.samples import T0, one_of_each_event

SECOND = 1_000_000_000
MINUTE = 60 * SECOND


def lit_print(ts: int, dollars: float) -> EquityPrint:
    return equity_print(
        ts_recv=ts, ts_event=ts, sequence=ts % 10**6, source="test", price=int(dollars * 10**9)
    )


def session(side: str, right: str) -> list[Event]:
    samples = {type(e).__name__: e for e in one_of_each_event("r")}
    packet = samples["FlowPacket"]
    alert = samples["Alert"]
    assert isinstance(packet, FlowPacket) and isinstance(alert, Alert)
    legs = [msgspec.structs.replace(packet.legs[0], side=side, right=right)]
    return [
        msgspec.structs.replace(packet, side=side, legs=legs),
        msgspec.structs.replace(alert, ts_event=T0),
        lit_print(T0 - SECOND, 100.0),
        lit_print(T0 + 30 * SECOND, 100.5),
        lit_print(T0 + MINUTE, 101.0),
        lit_print(T0 + 5 * MINUTE, 99.0),
        lit_print(T0 + 20 * MINUTE, 102.0),
    ]


def test_forward_moves_are_signed_by_the_packets_direction(
    fresh_warehouse: Warehouse, tmp_path: Path
) -> None:
    fresh_warehouse.insert_events(session("buy", "C"), run_id="r")
    report = build_report(fresh_warehouse, "r")
    alert = report.signals.filter(pl.col("source") == "alert").row(0, named=True)
    assert alert["direction"] == 1
    moves = [round(alert[f"underlying_move_{h}"], 6) for h in ("1m", "5m", "30m", "close")]
    assert moves == [100.0, -100.0, 200.0, 200.0]
    summary = report.summary.filter(pl.col("source") == "alert").row(0, named=True)
    assert (summary["hit_rate_1m"], summary["hit_rate_5m"]) == (1.0, 0.0)
    paths = report.write_parquet(tmp_path / "report")
    assert pl.read_parquet(paths[0]).height == report.signals.height


def test_bought_puts_are_bearish(fresh_warehouse: Warehouse) -> None:
    fresh_warehouse.insert_events(session("buy", "P"), run_id="r")
    alert = build_report(fresh_warehouse, "r").signals.filter(pl.col("source") == "alert")
    assert alert["direction"].to_list() == [-1]
    assert round(alert["underlying_move_1m"][0], 6) == -100.0
