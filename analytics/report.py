"""Backtest report of a run: what the underlying (and the contract) did after each signal.

Signals are the run's alerts (kind = their rules joined by '+') and classifier hits (kind =
rule). Each signal gets a direction from its packet: buying calls or selling puts is
bullish (+1), buying puts or selling calls bearish (-1), anything else (mixed legs, unknown
side) neutral (0). Forward moves are taken from the last lit equity print of the underlying
at or before the signal time and at or before +1 m, +5 m, +30 m and the last print of that
day (the close); contract moves likewise from the option prints of the packet's first leg.
A signal "hits" at a horizon when its signed move is positive. Neutral signals have moves
but no hit. Moves are in basis points, premium (of the signal's packet) in cents.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from analytics.run_outputs import UnknownRun
from infra.warehouse import Warehouse

MINUTE_NS = 60_000_000_000
HORIZONS: dict[str, int | None] = {"1m": MINUTE_NS, "5m": 5 * MINUTE_NS, "30m": 30 * MINUTE_NS,
                                   "close": None}  # fmt: skip


@dataclass(frozen=True)
class Report:
    signals: pl.DataFrame
    summary: pl.DataFrame
    calibration: pl.DataFrame

    def write_parquet(self, folder: Path) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name in ("signals", "summary", "calibration"):
            path = folder / f"{name}.parquet"
            getattr(self, name).write_parquet(path)
            paths.append(path)
        return paths


def _direction(side: str, legs: list[dict[str, Any]]) -> tuple[int, int | None]:
    """(+1 bullish / -1 bearish / 0 neutral, first leg's instrument id)."""
    first = legs[0]["instrument_id"] if legs else None
    rights = {leg["right"] for leg in legs}
    sides = {leg["side"] for leg in legs} | {side}
    if len(rights) != 1 or len(sides) != 1 or side not in {"buy", "sell"}:
        return 0, first
    bullish = (side == "buy") == (rights == {"C"})
    return (1 if bullish else -1), first


def _signals(warehouse: Warehouse, run_id: str) -> pl.DataFrame:
    rows = warehouse.rows(
        """
        SELECT 'alert', a.alert_id, arrayStringConcat(a.rules, '+'), a.severity, a.score,
               a.underlying, toUnixTimestamp64Nano(a.ts_event), p.side, p.legs, p.premium_cents
        FROM alerts AS a LEFT JOIN flow_packets AS p
          ON p.run_id = a.run_id AND p.packet_id = a.packet_id
        WHERE a.run_id = {run:String}
        UNION ALL
        SELECT 'hit', h.hit_id, h.rule, toUInt8(0), h.score,
               h.underlying, toUnixTimestamp64Nano(h.ts_event), p.side, p.legs, p.premium_cents
        FROM classifier_hits AS h LEFT JOIN flow_packets AS p
          ON p.run_id = h.run_id AND p.packet_id = h.packet_id
        WHERE h.run_id = {run:String}
        """,
        {"run": run_id},
    )
    records = []
    for source, signal_id, kind, severity, score, underlying, ts, side, legs, premium in rows:
        direction, instrument_id = _direction(side or "", legs or [])
        records.append(
            {"source": source, "signal_id": signal_id, "kind": kind, "severity": int(severity),
             "score": float(score), "underlying": underlying, "ts": int(ts),
             "direction": direction, "instrument_id": instrument_id,
             "premium_cents": int(premium or 0)}
        )  # fmt: skip
    schema = {"source": pl.String, "signal_id": pl.String, "kind": pl.String,
              "severity": pl.Int64, "score": pl.Float64, "underlying": pl.String,
              "ts": pl.Int64, "direction": pl.Int64, "instrument_id": pl.Int64,
              "premium_cents": pl.Int64}  # fmt: skip
    return pl.DataFrame(records, schema=schema).sort("ts", "signal_id")


def _prices(
    warehouse: Warehouse, sql: str, run_id: str, keys: list[int] | list[str]
) -> pl.DataFrame:
    rows = warehouse.rows(sql, {"run": run_id, "keys": keys})
    return pl.DataFrame(rows, schema={"key": pl.String, "ts": pl.Int64, "price": pl.Int64},
                        orient="row").sort("key", "ts")  # fmt: skip


def _forward(signals: pl.DataFrame, prices: pl.DataFrame, key: str, prefix: str) -> pl.DataFrame:
    """Add `{prefix}_px_0` and `{prefix}_move_{h}` (bps, signed by direction) columns."""
    if prices.is_empty():
        nulls = [pl.lit(None, pl.Float64).alias(f"{prefix}_move_{h}") for h in HORIZONS]
        return signals.with_columns(nulls)
    base = signals.with_columns(pl.col(key).cast(pl.String).alias("key"))
    closes = (
        prices.with_columns((pl.col("ts") // (86_400 * 10**9)).alias("day"))
        .group_by("key", "day")
        .agg(pl.col("ts").max().alias("close_ts"))
    )
    out = base.sort("ts").join_asof(
        prices.rename({"price": f"{prefix}_px_0"}),
        on="ts", by="key", strategy="backward", check_sortedness=False,
    )  # fmt: skip
    out = out.with_columns((pl.col("ts") // (86_400 * 10**9)).alias("day")).join(
        closes, on=["key", "day"], how="left"
    )
    for horizon, offset in HORIZONS.items():
        target = pl.col("close_ts") if offset is None else pl.col("ts") + offset
        shifted = out.with_columns(target.alias("target_ts")).sort("target_ts")
        joined = shifted.join_asof(
            prices.rename({"ts": "target_ts", "price": "px_h"}),
            on="target_ts", by="key", strategy="backward", check_sortedness=False,
        )  # fmt: skip
        move = (pl.col("px_h") - pl.col(f"{prefix}_px_0")) / pl.col(f"{prefix}_px_0") * 10_000
        out = joined.with_columns(
            (move * pl.when(pl.col("direction") == 0).then(1).otherwise(pl.col("direction"))).alias(
                f"{prefix}_move_{horizon}"
            )
        ).drop("px_h", "target_ts")
    return out.drop("key", "day", "close_ts").sort("ts", "signal_id")


def build_report(warehouse: Warehouse, run_id: str) -> Report:
    """The run's report; `UnknownRun` when the run is neither registered nor holds any
    derived row."""
    _require_run(warehouse, run_id)
    signals = _signals(warehouse, run_id)
    underlyings = sorted(set(signals["underlying"].to_list()))
    equity = _prices(
        warehouse,
        "SELECT symbol, toUnixTimestamp64Nano(ts_recv), price FROM equity_prints "
        "WHERE run_id = {run:String} AND NOT off_exchange AND symbol IN {keys:Array(String)}",
        run_id,
        underlyings,
    )
    signals = _forward(signals, equity, "underlying", "underlying")
    instruments = sorted({int(i) for i in signals["instrument_id"].drop_nulls().to_list()})
    contract = _prices(
        warehouse,
        "SELECT toString(instrument_id), toUnixTimestamp64Nano(ts_recv), price "
        "FROM option_prints WHERE run_id = {run:String} AND instrument_id IN {keys:Array(UInt32)}",
        run_id,
        instruments,
    )
    signals = _forward(signals, contract, "instrument_id", "contract")
    return Report(signals=signals, summary=_summary(signals), calibration=_calibration(signals))


def _require_run(warehouse: Warehouse, run_id: str) -> None:
    known = warehouse.scalar(
        "SELECT (SELECT count() FROM runs WHERE run_id = {r:String}) "
        "+ (SELECT count() FROM print_inference WHERE run_id = {r:String}) "
        "+ (SELECT count() FROM flow_packets WHERE run_id = {r:String}) "
        "+ (SELECT count() FROM alerts WHERE run_id = {r:String}) "
        "+ (SELECT count() FROM classifier_hits WHERE run_id = {r:String})",
        {"r": run_id},
    )
    if not known:
        raise UnknownRun(f"no run {run_id!r}: not registered and no derived rows stored")


def _summary(signals: pl.DataFrame) -> pl.DataFrame:
    directional = pl.col("direction") != 0
    aggregates = [pl.len().alias("signals"), directional.sum().alias("directional"),
                  pl.col("premium_cents").sum().alias("premium_cents")]  # fmt: skip
    for horizon in HORIZONS:
        move = pl.col(f"underlying_move_{horizon}")
        aggregates.append(move.mean().round(2).alias(f"mean_move_bps_{horizon}"))
        aggregates.append(
            (move.filter(directional) > 0).mean().round(4).alias(f"hit_rate_{horizon}")
        )
    return (
        signals.group_by("source", "kind", "severity")
        .agg(aggregates)
        .sort("source", "kind", "severity")
    )


def _calibration(signals: pl.DataFrame) -> pl.DataFrame:
    """Alert score quintiles against the observed 5-minute hit rate."""
    alerts = signals.filter((pl.col("source") == "alert") & (pl.col("direction") != 0))
    if alerts.height == 0:
        schema = {"score_bucket": pl.Int64, "signals": pl.UInt32, "mean_score": pl.Float64,
                  "hit_rate_5m": pl.Float64}  # fmt: skip
        return pl.DataFrame(schema=schema)
    ranked = alerts.with_columns(
        ((pl.col("score").rank("ordinal") - 1) * 5 // alerts.height).cast(pl.Int64)
        .alias("score_bucket")
    )  # fmt: skip
    return (
        ranked.group_by("score_bucket")
        .agg(
            pl.len().alias("signals"),
            pl.col("score").mean().round(4).alias("mean_score"),
            (pl.col("underlying_move_5m") > 0).mean().round(4).alias("hit_rate_5m"),
        )
        .sort("score_bucket")
    )
