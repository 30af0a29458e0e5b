"""`flowtape sink`: the thin command around live.sink.service.run_sink."""

from __future__ import annotations

import json
import logging
from typing import Annotated

import typer

from infra.settings import get_settings
from infra.stack import Stack
from live.sink.config import SinkConfig
from live.sink.service import run_sink
from schemas.subjects import DERIVED_STREAM, RAW_STREAM

_DEFAULTS = SinkConfig()


def register(app: typer.Typer) -> None:
    """Add the `sink` command to the flowtape CLI."""

    @app.command("sink")
    def sink(
        stream: Annotated[
            list[str] | None, typer.Option("--stream", help="RAW and/or DERIVED (default both).")
        ] = None,
        batch_rows: Annotated[
            int, typer.Option(help="Flush sooner when this many rows are pending.")
        ] = _DEFAULTS.batch_rows,
        batch_wait_s: Annotated[
            float,
            typer.Option(help="The latency bound: rows are gathered for at most this long."),
        ] = _DEFAULTS.batch_wait_s,
        fetch_messages: Annotated[
            int, typer.Option(help="Messages per pull.")
        ] = _DEFAULTS.fetch_messages,
        until_idle: Annotated[
            bool, typer.Option("--until-idle", help="Exit once everything stored is caught up.")
        ] = False,
        health_port: Annotated[
            int | None, typer.Option(help="Serve /health on 127.0.0.1 at this port.")
        ] = None,
    ) -> None:
        """Store RAW and DERIVED in ClickHouse, exactly once, until Ctrl-C (or caught up with
        --until-idle). Applies RETENTION_DAYS_<TABLE> TTLs first; keeps its metrics in
        <data dir>/sink-metrics.json."""
        if not logging.getLogger().handlers:
            logging.basicConfig(
                level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s"
            )
        settings = get_settings()
        streams = [s.upper() for s in (stream or [RAW_STREAM, DERIVED_STREAM])]
        config = SinkConfig(
            batch_rows=batch_rows, batch_wait_s=batch_wait_s, fetch_messages=fetch_messages
        )
        with Stack(settings, needs=("nats", "clickhouse")) as stack:
            metrics = run_sink(
                stack.url("nats"),
                stack.url("clickhouse"),
                settings,
                streams=streams,
                config=config,
                until_idle=until_idle,
                health_port=health_port,
            )
        typer.echo(json.dumps(metrics, sort_keys=True))
