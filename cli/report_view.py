"""A backtest report as tables a person reads: moves in percent, premium in dollars."""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from rich.table import Table

from analytics.report import HORIZONS, Report

_MISSING = "-"  # no price to measure a move against


def report_tables(report: Report) -> list[Table]:
    """The signals per kind, their mean moves, their hit rates and the alerts' calibration."""
    return [
        _signals(report.summary),
        _per_horizon(
            report.summary, "mean_move_bps_{}", _signed_percent_of_bps,
            "Mean move of the underlying after a signal (%, signed by its direction)",
        ),
        _per_horizon(
            report.summary, "hit_rate_{}", _percent,
            "Hit rate: directional signals whose underlying then moved their way (%)",
        ),
        _calibration(report.calibration),
    ]  # fmt: skip


def _table(title: str, *columns: str) -> Table:
    table = Table(title=title, title_justify="left")
    for n, name in enumerate(columns):
        # fold, never elide: a long kind (rules joined by '+') wraps onto the next line
        table.add_column(name, justify="left" if n < 2 else "right", overflow="fold")
    return table


def _signals(summary: pl.DataFrame) -> Table:
    table = _table("Signals by kind", "source", "kind", "severity", "signals", "directional",
                   "premium ($)")  # fmt: skip
    for row in summary.iter_rows(named=True):
        table.add_row(row["source"], row["kind"], str(row["severity"]), f"{row['signals']:,}",
                      f"{row['directional']:,}", f"${row['premium_cents'] / 100:,.0f}")  # fmt: skip
    return _or_empty(table, summary)


def _per_horizon(summary: pl.DataFrame, column: str, shown: Any, title: str) -> Table:
    table = _table(title, "source", "kind", "severity", *HORIZONS)
    for row in summary.iter_rows(named=True):
        cells = [shown(row[column.format(horizon)]) for horizon in HORIZONS]
        table.add_row(row["source"], row["kind"], str(row["severity"]), *cells)
    return _or_empty(table, summary)


def _calibration(calibration: pl.DataFrame) -> Table:
    table = _table("Calibration: alert score quintile against the 5-minute hit rate",
                   "quintile", "alerts", "mean score", "hit rate 5m (%)")  # fmt: skip
    for row in calibration.iter_rows(named=True):
        table.add_row(str(row["score_bucket"] + 1), f"{row['signals']:,}",
                      f"{row['mean_score']:.3f}", _percent(row["hit_rate_5m"]))  # fmt: skip
    return _or_empty(table, calibration)


def _or_empty(table: Table, frame: pl.DataFrame) -> Table:
    if frame.is_empty():
        table.caption = "no signals in this run"
    return table


def _missing(value: float | None) -> bool:
    return value is None or math.isnan(value)


def _signed_percent_of_bps(bps: float | None) -> str:
    return _MISSING if bps is None or _missing(bps) else f"{bps / 100:+.2f} %"


def _percent(fraction: float | None) -> str:
    return _MISSING if fraction is None or _missing(fraction) else f"{fraction * 100:.1f} %"
