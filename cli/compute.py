"""`flowtape compute`: the live compute service over RAW into DERIVED."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import typer

from infra.pages import set_huge_pages
from infra.settings import get_settings
from infra.stack import Stack
from live.compute_health import DEFAULT_MAX_LAG_MESSAGES
from live.compute_service import run_compute
from live.partitions import owned_partitions
from schemas.errors import ConfigError


def register(app: typer.Typer) -> None:
    """Add `flowtape compute`."""

    @app.command("compute")
    def compute_command(
        until_idle: Annotated[bool, typer.Option(help="stop when RAW has nothing new")] = False,
        finish: Annotated[bool, typer.Option(help="with --until-idle: end the session")] = False,
        batch_messages: Annotated[int, typer.Option(help="RAW messages per engine step")] = 64,
        health_port: Annotated[
            int | None,
            typer.Option(
                help="serve /health on 127.0.0.1 here", envvar="FLOWTAPE_COMPUTE_HEALTH_PORT"
            ),
        ] = None,
        max_lag_messages: Annotated[
            int,
            typer.Option(
                help="/health is degraded beyond this many RAW messages behind",
                envvar="FLOWTAPE_COMPUTE_MAX_LAG_MESSAGES",
            ),
        ] = DEFAULT_MAX_LAG_MESSAGES,
        partitions: Annotated[
            str | None,
            typer.Option(
                help="with FLOWTAPE_PARTITIONS > 1: the partitions this worker runs, e.g. 0,2 "
                "(default: all)",
                envvar="FLOWTAPE_COMPUTE_PARTITIONS",
            ),
        ] = None,
    ) -> None:
        """Run the engine over the RAW stream into DERIVED, checkpointing in Redis."""
        logging.basicConfig(level=logging.INFO)
        settings = get_settings()
        owned = owned_partitions(partitions, settings.partitions) if settings.partitions > 1 else []
        if partitions and not owned:
            raise ConfigError("--partitions needs FLOWTAPE_PARTITIONS > 1 (one partition runs all)")
        with Stack(settings, needs=("nats", "redis")) as stack:
            set_huge_pages(settings.transparent_huge_pages)  # the engine's, not the servers'
            results = asyncio.run(
                run_compute(stack.url("nats"), stack.url("redis"), settings,
                            until_idle=until_idle, finish=finish, batch_messages=batch_messages,
                            health_port=health_port, max_lag_messages=max_lag_messages,
                            partitions=owned)
            )  # fmt: skip
        for partition, metrics in zip(owned or [None], results, strict=True):
            named = f" partition {partition.index} of {partition.count}:" if partition else ""
            typer.echo(
                f"compute:{named} {metrics.raw_events:,} raw events, {metrics.outputs:,} "
                f"outputs, position {metrics.position}, {metrics.repeats_dropped:,} repeats "
                "dropped"
            )
