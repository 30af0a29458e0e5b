"""`flowtape alpha`: the CME alpha frames computed live from the log."""

from __future__ import annotations

import asyncio
import logging
from typing import Annotated

import msgspec
import typer

import compute.alpha as alpha
from compute.alpha.config import SETTING_NAMES
from infra.settings import Settings, get_settings
from infra.stack import Component, Stack
from live.alpha.run import run_alpha

_DEFAULTS = alpha.AlphaConfig()


def funding_symbols(pairs: list[str]) -> dict[str, str]:
    """`ROOT=SYMBOL` pairs (`CL=BTCUSDT`) as root -> perpetual."""
    found: dict[str, str] = {}
    for pair in pairs:
        root, _, symbol = pair.partition("=")
        if not (root.strip() and symbol.strip()):
            raise typer.BadParameter(f"--funding expects ROOT=SYMBOL (CL=BTCUSDT), got {pair!r}")
        found[root.strip()] = symbol.strip()
    return found


def alpha_config(
    settings: Settings,
    roots: list[str] | None = None,
    rate: float = _DEFAULTS.rate,
    funding: dict[str, str] | None = None,
) -> alpha.AlphaConfig:
    """The engine's settings: `roots` (CL unless given), `rate` and the perpetuals whose
    funding a root's frames carry, then SIDECAR_EMIT_MS, STRIKES_WINDOW, ... from the
    environment (`compute.alpha.config_from_settings`)."""
    base = msgspec.structs.replace(
        _DEFAULTS,
        roots=tuple(roots or _DEFAULTS.roots),
        rate=rate,
        funding_symbols=funding or {},
    )
    return alpha.config_from_settings(settings.raw_environment(SETTING_NAMES), base)


def register(app: typer.Typer) -> None:
    """Add `flowtape alpha`."""

    @app.command("alpha")
    def alpha_command(
        roots: Annotated[
            list[str] | None, typer.Option("--root", help="futures products served (CL)")
        ] = None,
        rate: Annotated[
            float, typer.Option(help="continuously compounded risk-free rate, a decimal")
        ] = _DEFAULTS.rate,
        funding: Annotated[
            list[str] | None,
            typer.Option(help="ROOT=SYMBOL: the perpetual whose funding the root's frames carry"),
        ] = None,
        until_idle: Annotated[bool, typer.Option(help="stop when RAW has nothing new")] = False,
        finish: Annotated[bool, typer.Option(help="with --until-idle: end the session")] = False,
        batch_messages: Annotated[int, typer.Option(min=1, help="RAW messages per step")] = 64,
        checkpoint: Annotated[
            bool, typer.Option(help="checkpoint in Redis and resume there after a restart")
        ] = True,
        health_port: Annotated[
            int | None,
            typer.Option(
                help="serve /health on 127.0.0.1 here", envvar="FLOWTAPE_ALPHA_HEALTH_PORT"
            ),
        ] = None,
    ) -> None:
        """Compute an alpha frame per root at each SIDECAR_EMIT_MS of event time from the CME
        events on RAW (futures, options on futures, MBP-10 depth, perpetuals' funding) into
        DERIVED; the sink stores them in `alpha_frames`. Checkpointed in Redis (a restart
        resumes). Runs until Ctrl-C."""
        logging.basicConfig(level=logging.INFO)
        settings = get_settings()
        config = alpha_config(settings, roots, rate, funding_symbols(funding or []))
        needs: tuple[Component, ...] = ("nats", "redis") if checkpoint else ("nats",)
        with Stack(settings, needs=needs) as stack:
            metrics = asyncio.run(
                run_alpha(stack.url("nats"), config, run_id=settings.run_id,
                          allowed_lateness_ns=settings.allowed_lateness_ns,
                          redis_url=stack.url("redis") if checkpoint else None,
                          health_port=health_port, until_idle=until_idle,
                          finish_session=finish, batch_messages=batch_messages,
                          duplicate_window_s=settings.stream_duplicate_window_s)
            )  # fmt: skip
        typer.echo(
            f"alpha: {metrics.raw_events:,} raw events, {metrics.frames:,} frames, "
            f"position {metrics.position}, {metrics.repeats_dropped:,} repeats dropped"
        )
