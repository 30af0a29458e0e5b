"""`flowtape synth`: write a synthetic session as DBN files plus `labels.jsonl` (and, with
`--hard`, `sides.jsonl`); with `--market cme`, a CME session (CL futures, LO options) as GLBX
DBN files plus `cme_session.json` and `cme_labels.jsonl`."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal, TypeVar

import typer

from cli.errors import writing
from cli.progress import Meter
from synth.cme import generate_cme_session, write_cme_session
from synth.cme_config import CmeConfig
from synth.config import SynthConfig
from synth.session import ProgressReport, generate_session, write_session

Session = TypeVar("Session")


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
    market: Annotated[
        Literal["opra", "cme"],
        typer.Option(help="opra: options and equities; cme: CL futures and LO options (GLBX)"),
    ] = "opra",
    quiet: Annotated[
        list[str] | None,
        typer.Option(
            help="with --market cme: START:SECONDS from the open without option quote changes "
            "(repeatable; default one 30 s window halfway through)"
        ),
    ] = None,
) -> None:
    """Generate a deterministic synthetic market session with ground-truth labels."""
    if market == "cme":
        if hard:
            raise typer.BadParameter("--hard is a profile of the opra market, not of cme")
        _synth_cme(out, seed, date, minutes, quiet)
        return
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
    session, timing = _generated_and_written(
        out,
        f"generating {minutes} min, {underlyings} underlyings, seed {seed} ...",
        lambda report: generate_session(config, progress=report),
        lambda session, report: write_session(session, out, progress=report),
    )
    prints = len(session.file("OPRA.PILLAR", "trades").records)
    kinds = Counter(label.kind for label in session.labels)
    structures = Counter(label.structure for label in session.labels if label.structure)
    typer.echo(
        f"{prints:,} option prints, {len(session.labels)} labels "
        f"({', '.join(f'{k} {n}' for k, n in sorted(kinds.items()))}; "
        f"multi_leg: {', '.join(f'{k} {n}' for k, n in sorted(structures.items()))}); "
        f"{timing}",
        err=True,
    )


def _generated_and_written(
    out: Path,
    announce: str,
    generate: Callable[[ProgressReport], Session],
    write: Callable[[Session, ProgressReport], list[Path]],
) -> tuple[Session, str]:
    """Generate a session and write it into `out`, showing progress, and print the paths
    written; returns the session and how long each part took."""
    with writing(out):
        out.mkdir(parents=True, exist_ok=True)  # an unusable --out fails before the work
    started = time.perf_counter()
    typer.echo(announce, err=True)
    # generation runs in a few steps of very different lengths: a count of them, no time left
    with Meter("generate", "steps", paced=False) as steps:
        session = generate(_shown_on(steps))
    generated = time.perf_counter()
    with writing(out), Meter("write", "records") as records:
        paths = write(session, _shown_on(records))
    written = time.perf_counter()
    for path in paths:
        typer.echo(str(path))
    return session, (
        f"generated in {generated - started:.1f} s, written in {written - generated:.1f} s"
    )


def _quiet_windows(windows: list[str] | None) -> list[tuple[int, int]] | None:
    if not windows:
        return None
    out = []
    for window in windows:
        start, _, length = window.partition(":")
        if not (start.isdigit() and length.isdigit()):
            raise typer.BadParameter(f"--quiet takes START:SECONDS, got {window!r}")
        out.append((int(start), int(length)))
    return out


def _synth_cme(out: Path, seed: int, date: str, minutes: int, quiet: list[str] | None) -> None:
    try:
        windows = _quiet_windows(quiet)
        config = CmeConfig(seed=seed, date=date, minutes=minutes, quiet_windows=windows)
        config.validate()
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    session, timing = _generated_and_written(
        out,
        f"generating a CME session of {minutes} min, seed {seed} ...",
        lambda report: generate_cme_session(config, progress=report),
        lambda session, report: write_cme_session(session, out, progress=report),
    )
    counts = ", ".join(f"{schema} {len(f.records):,}" for schema, f in session.files.items())
    typer.echo(
        f"{session.n_records:,} records ({counts}), {len(session.labels):,} labelled seconds, "
        f"quiet windows: {len(session.quiet)}; {timing}",
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
