"""`flowtape record`: the log's market data as Parquet files for backtests."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import writing
from infra.settings import get_settings
from infra.stack import Stack
from live.daemon.config import load_daemon_settings
from live.recorder.service import RecorderConfig, run_recorder

_DEFAULTS = RecorderConfig(root=Path())


def register(app: typer.Typer) -> None:
    """Add `flowtape record`."""

    @app.command("record")
    def record_command(
        out: Annotated[
            Path | None,
            typer.Option(help="the recording's folder (default: recording in the data folder)"),
        ] = None,
        rotate_rows: Annotated[
            int, typer.Option(help="write files once this many rows are pending")
        ] = _DEFAULTS.rotate_rows,
        rotate_seconds: Annotated[
            float, typer.Option(help="... or once the oldest pending row waited this long")
        ] = _DEFAULTS.rotate_seconds,
        snapshot_every_ms: Annotated[
            int, typer.Option(help="book snapshots: one per book per this much event time")
        ] = _DEFAULTS.snapshot_every_ns // 1_000_000,
        snapshot_depth: Annotated[
            int, typer.Option(help="levels per side in a book snapshot")
        ] = _DEFAULTS.snapshot_depth,
        until_idle: Annotated[
            bool, typer.Option("--until-idle", help="stop once RAW holds nothing new")
        ] = False,
        health_port: Annotated[
            int | None, typer.Option(help="serve /health on 127.0.0.1 at this port")
        ] = None,
    ) -> None:
        """Record trades, quotes and depth from RAW, with book snapshots and closed candles
        (the daemon's intervals), as Parquet under OUT/date=…/venue=…/type=…/; resumes
        where it stopped. Replay a recording with replay.parquet."""
        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
            )
        if rotate_rows < 1 or rotate_seconds <= 0 or snapshot_every_ms < 1 or snapshot_depth < 1:
            raise typer.BadParameter("rotation, cadence and depth must be positive")
        settings = get_settings()
        out = out or settings.data_dir / "recording"
        with writing(out):
            out.mkdir(parents=True, exist_ok=True)  # refused here, before any server is reached
        config = RecorderConfig(
            root=out, rotate_rows=rotate_rows, rotate_seconds=rotate_seconds,
            snapshot_every_ns=snapshot_every_ms * 1_000_000, snapshot_depth=snapshot_depth,
            buffers=load_daemon_settings().buffers(),
        )  # fmt: skip
        with Stack(settings, needs=("nats",)) as stack, writing(out):
            metrics = asyncio.run(
                run_recorder(stack.url("nats"), config, until_idle=until_idle,
                             duplicate_window_s=settings.stream_duplicate_window_s,
                             health_port=health_port)
            )  # fmt: skip
        typer.echo(
            f"record: {metrics.events:,} events from {metrics.messages:,} messages into "
            f"{metrics.files} files, position {metrics.position}"
        )
