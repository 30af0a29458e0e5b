from pathlib import Path

import pytest
import typer

from cli.ingest import SOURCES, build_source
from infra.settings import Settings
from ingest.source import Source

OPTIONS: dict[str, dict[str, object]] = {
    "synthetic": {},
    "synthetic-cme": {},
    "databento-file": {"paths": [Path("session.dbn.zst")]},
    "databento-hist": {
        "dataset": "GLBX.MDP3",
        "schemas": ["mbo"],
        "symbols": ["ESH4"],
        "start": "2023-12-25",
        "end": "2023-12-26",
    },
    "databento-live": {"dataset": "OPRA.PILLAR", "schemas": ["tcbbo"], "symbols": ["SPY.OPT"]},
    "alpaca": {"symbols": ["SPY"]},
    "ibkr": {"symbols": ["SPY   250321C00600000"]},
}


def build(name: str, **given: object) -> Source:
    options: dict[str, object] = dict(
        paths=[], dataset=None, schemas=[], symbols=[], speed=0.0, seed=1, minutes=1
    )
    options.update(given)
    return build_source(name, settings=Settings(_env_file=None), **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("name", SOURCES)
def test_every_named_source_builds_without_connecting(name: str) -> None:
    source = build(name, **OPTIONS[name])
    assert isinstance(source, Source)


def test_a_source_missing_its_options_says_what_it_needs() -> None:
    with pytest.raises(typer.BadParameter, match="--path"):
        build("databento-file")
    with pytest.raises(typer.BadParameter, match="--dataset"):
        build("databento-live")
    with pytest.raises(typer.BadParameter, match="--start and --end"):
        build("databento-hist", dataset="GLBX.MDP3", schemas=["mbo"], symbols=["ESH4"])
    with pytest.raises(typer.BadParameter, match="expected a source"):
        build("bloomberg")


@pytest.mark.parametrize("name", ["databento-file", "databento-hist", "databento-live"])
def test_books_turns_databento_order_book_records_into_events(name: str) -> None:
    assert not build(name, **OPTIONS[name]).normaliser.emit_books  # type: ignore[attr-defined]
    with_books = build(name, **OPTIONS[name], books=True)
    assert with_books.normaliser.emit_books  # type: ignore[attr-defined]
