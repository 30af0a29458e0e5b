"""`flowtape score`: a run's accuracy against the labels of its session."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import msgspec
import typer
from rich import box
from rich.console import Console
from rich.table import Table

from analytics.labels import load_labels, load_sides
from analytics.run_outputs import read_run_outputs
from analytics.scoring import Score, score_run
from cli.stack import open_warehouse
from infra.migrate import migrate
from infra.settings import get_settings
from infra.stack import Stack

FORMATS = ("table", "json")
DETECTION_COLUMNS = ("planted", "found", "detected", "correct", "precision", "recall")


def detection_tables(score: Score) -> list[Table]:
    """Precision and recall of each detector, one table per kind of detector."""
    sections = [
        ("packet kinds", score.kinds),
        ("multi-leg structures", score.structures),
        ("classifier rules", score.rules),
        ("dark-pool patterns", score.darkpool),
    ]
    tables = []
    for title, detections in sections:
        table = _table(title, DETECTION_COLUMNS)
        for name, found in detections.items():
            table.add_row(
                name, str(found.planted), str(found.found), str(found.detected),
                str(found.correct), f"{found.precision:.3f}", f"{found.recall:.3f}",
            )  # fmt: skip
        tables.append(table)
    return tables


def sides_table(score: Score) -> Table:
    """Side accuracy over all prints with a true side, then split three ways."""
    sides = score.sides
    table = _table("side accuracy", ("prints", "right", "accuracy"))
    table.add_row("all labelled prints", *_cells(sides.prints, sides.right, sides.accuracy))
    splits = [("NBBO status", sides.by_status), ("bucket", sides.by_bucket),
              ("side rule", sides.by_rule)]  # fmt: skip
    for split, tallies in splits:
        table.add_section()
        for name, tally in tallies.items():
            table.add_row(f"{split} {name}", *_cells(tally.prints, tally.right, tally.accuracy))
    return table


def _table(title: str, columns: tuple[str, ...]) -> Table:
    """Names, then figures: narrow enough for an 80-column terminal."""
    table = Table(title=title, title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False,
                  collapse_padding=True)  # fmt: skip
    table.add_column(no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right")
    return table


def _cells(prints: int, right: int, accuracy: float) -> tuple[str, str, str]:
    return f"{prints:,}", f"{right:,}", f"{accuracy:.1%}"


def score(
    labels: Annotated[
        Path, typer.Argument(help="the session's labels.jsonl (and sides.jsonl beside it)")
    ],
    run_id: Annotated[str, typer.Argument(help="the run to score")],
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
) -> None:
    """Score a run against labels: precision and recall per packet kind, structure,
    classifier rule and dark-pool pattern; side accuracy by NBBO status, bucket and rule."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"expected table or json, got {fmt!r}")
    truth = load_labels(labels)  # a bad labels file fails before any server starts
    sides = load_sides(labels)
    settings = get_settings()
    with Stack(settings, needs=("clickhouse",)) as stack, open_warehouse(stack, settings) as wh:
        migrate(wh)  # a folder that has run nothing yet has no such run, rather than no tables
        result = score_run(truth, read_run_outputs(wh, run_id), sides)
    if fmt == "json":
        typer.echo(msgspec.json.encode(result).decode())
        return
    console = Console()
    console.print(f"run {run_id} scored against {labels}")
    for table in [*detection_tables(result), sides_table(result)]:
        console.print(table)


def register(app: typer.Typer) -> None:
    """Add `score`."""
    app.command()(score)
