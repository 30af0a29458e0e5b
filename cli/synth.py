"""`flowtape synth`: write a synthetic session as DBN files plus `labels.jsonl` (and, with
`--hard`, `sides.jsonl`)."""

from __future__ import annotations

import time
from collections import Counter
from pathlib import Path
from typing import Annotated

import typer

from cli.errors import writing
from cli.progress import Meter
from synth.config import SynthConfig
from synth.session import ProgressReport, generate_session, write_session


def synth(
    out: Annotated[Path, typer.Option("--out", help="folder for the DBN files and labels.jsonl")],
    seed: Annotated[int, typer.Option(help="same seed, same bytes")] = 0,
    date: Annotated[str, typer.Option(help="trading date, YYYY-MM-DD")] = "2025-02-20",
    minutes: Annotated[int, typer.Option(help="session length from 09:30 New York")] = 10,
    underlyings: Annotated[int, typer.Option(help="number of underlyings")] = 24,
    prints_per_second: Annotated[
        float, typer.Option(help="background option prints per second, all names")
    ] = 40.0,
    quotes_per_print: Annotated[
        float, typer.Option(help="NBBO changes per background option print")
    ] = 3.0,
    planted: Annotated[
        int | None,
        typer.Option(help="planted events per kind (default scales with minutes; 60 with --hard)"),
    ] = None,
    hard: Annotated[
        bool,
        typer.Option(
            "--hard",
            help="the hard tape: 3- and 4-leg orders, legs up to 100 us apart, quiet contracts, "
            "quotes moving around prints, the true side of every print in sides.jsonl",
        ),
    ] = False,
) -> None:
    """Generate a deterministic synthetic market session with ground-truth labels."""
    try:
        config = SynthConfig(
            seed=seed,
            date=date,
            minutes=minutes,
            n_underlyings=underlyings,
            option_prints_per_second=prints_per_second,
            option_quotes_per_print=quotes_per_print,
            planted_per_kind=planted,
            profile="hard" if hard else "standard",
        )
        config.validate()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)  # an unusable --out fails before the work
    started = time.perf_counter()
    typer.echo(f"generating {minutes} min, {underlyings} underlyings, seed {seed} ...", err=True)
    # generation runs in a few steps of very different lengths: a count of them, no time left
    with Meter("generate", "steps", paced=False) as steps:
        session = generate_session(config, progress=_shown_on(steps))
    generated = time.perf_counter()
    with writing(out), Meter("write", "records") as records:
        paths = write_session(session, out, progress=_shown_on(records))
    written = time.perf_counter()
    for path in paths:
        typer.echo(str(path))
    prints = len(session.file("OPRA.PILLAR", "trades").records)
    kinds = Counter(label.kind for label in session.labels)
    structures = Counter(label.structure for label in session.labels if label.structure)
    typer.echo(
        f"{prints:,} option prints, {len(session.labels)} labels "
        f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}; "
        f"multi_leg: {', '.join(f'{k} {n}' for k, n in sorted(structures.items()))}); "
        f"generated in {generated - started:.1f} s, written in {written - generated:.1f} s",
        err=True,
    )


def _shown_on(meter: Meter) -> ProgressReport:
    """A synth progress report drawn on `meter`, its first report starting the bar."""
    started = False

    def report(what: str, done: int, total: int) -> None:
        nonlocal started
        if not started:
            meter.start(total)
            started = True
        meter.update(done, description=what)

    return report


def register(app: typer.Typer) -> None:
    """Add the `synth` command to the flowtape CLI."""
    app.command("synth")(synth)
