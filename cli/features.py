"""`flowtape features`: crypto features and signals computed live from the log."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from compute.features import FeaturesConfig
from infra.settings import get_settings
from infra.stack import Component, Stack
from live.features.run import run_features

_DEFAULTS = FeaturesConfig()


def register(app: typer.Typer) -> None:
    """Add `flowtape features`."""

    @app.command("features")
    def features(
        http_port: Annotated[int, typer.Option(help="port of /features/latest etc.")] = 8092,
        start_seq: Annotated[int, typer.Option(help="RAW stream position to start at")] = 1,
        window_s: Annotated[float, typer.Option(help="the features' window")] = 60.0,
        emit_ms: Annotated[
            int, typer.Option(help="at most one output per symbol per this much event time")
        ] = _DEFAULTS.emit_interval_ns // 1_000_000,
        checkpoint: Annotated[
            bool, typer.Option(help="checkpoint in Redis and resume there after a restart")
        ] = True,
    ) -> None:
        """Compute crypto features and long/short signals from RAW; serves /features/latest,
        /state/latest, /stats and the signals WebSocket /ws/signals on 127.0.0.1; outputs go to
        DERIVED. Checkpointed in Redis (a restart resumes; --no-checkpoint: Ctrl-C ends the
        session). Runs until Ctrl-C."""
        logging.basicConfig(level=logging.INFO)
        settings = get_settings()
        config = FeaturesConfig(window_ns=int(window_s * 1e9), emit_interval_ns=emit_ms * 1_000_000)
        needs: tuple[Component, ...] = ("nats", "redis") if checkpoint else ("nats",)
        with Stack(settings, needs=needs) as stack:
            service = asyncio.run(
                run_features(stack.url("nats"), config, run_id=settings.run_id,
                             http_port=http_port, start_seq=start_seq,
                             redis_url=stack.url("redis") if checkpoint else None,
                             duplicate_window_s=settings.stream_duplicate_window_s)
            )  # fmt: skip
        stats = service.stats()
        typer.echo(
            f"features: {stats.get('events', 0):,} events, {stats.get('features', 0):,} "
            f"feature rows, {stats.get('signals', 0):,} signals, position {stats['position']}"
        )
