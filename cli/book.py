"""`flowtape book`: rebuild order books from DBN files and write every trade with the best
bid and ask in force just before it, so anyone can check a book against a tape."""

from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Annotated

import databento_dbn as dbn
import typer

from cli.errors import writing
from compute.book import at_or_through_touch, initial_state, step
from ingest.databento import RecordNormaliser, iter_file_events, read_dbn
from ingest.databento.files import DbnReadError
from schemas.book import BookTrade
from schemas.errors import FlowtapeError
from schemas.events import PRICE_SCALE, Event, Quarantined

COLUMNS = ("ts_recv", "instrument_id", "price", "size", "side", "bid_px", "ask_px", "bid_sz",
           "ask_sz")  # fmt: skip
BOOK_SCHEMAS = {dbn.Schema.MBO: "mbo", dbn.Schema.MBP_10: "mbp-10"}
_BATCH = 10_000
# Quarantine reasons that mean a file could not be read to its end.
_READ_FAILURES = frozenset({"truncated_dbn", "malformed_dbn", "unreadable_file"})


class BookInputError(FlowtapeError):
    """A file given to `flowtape book` cannot be used; the code says why."""

    code = "book_input"


def decimal(price: int | None) -> str:
    """A 1e-9 integer price as an exact decimal (`3675.75`); empty for no price."""
    if price is None:
        return ""
    whole, fraction = divmod(abs(price), PRICE_SCALE)
    text = f"{whole}.{fraction:09d}".rstrip("0").rstrip(".")
    return f"-{text}" if price < 0 else text


def check_inputs(files: Iterable[Path]) -> None:
    """Every file exists and is a DBN file of MBO or MBP-10 records, else `BookInputError`."""
    for path in files:
        if not path.is_file():
            raise BookInputError(f"{path}: no such file", code="missing_file")
        try:
            metadata = next(read_dbn(path), None)
        except DbnReadError as exc:
            raise BookInputError(str(exc.detail), code=exc.reason) from exc
        if not isinstance(metadata, dbn.Metadata):
            raise BookInputError(f"{path}: no DBN metadata", code="malformed_dbn")
        if metadata.schema not in BOOK_SCHEMAS:
            found = metadata.schema.value if metadata.schema is not None else "mixed"
            raise BookInputError(
                f"{path}: schema {found}, expected mbo or mbp-10", code="wrong_schema"
            )


def book_trades(
    files: list[Path], quarantined: Counter[str], counters: Counter[str]
) -> Iterator[BookTrade]:
    """The trades of `files` placed in their rebuilt books, in canonical order."""
    normaliser = RecordNormaliser(emit_books=True)
    state = initial_state()
    batch: list[Event] = []
    for event in iter_file_events(files, normaliser=normaliser):
        if isinstance(event, Quarantined):
            quarantined[event.reason] += 1
            continue
        batch.append(event)
        if len(batch) >= _BATCH:
            state, out = step(state, batch)
            batch = []
            yield from (t for t in out if isinstance(t, BookTrade))
    state, out = step(state, batch)
    yield from (t for t in out if isinstance(t, BookTrade))
    counters.update(state.counters)


def row(trade: BookTrade) -> list[object]:
    """One CSV row of `COLUMNS`."""
    return [
        trade.ts_recv, trade.instrument_id, decimal(trade.price), trade.size, trade.side,
        decimal(trade.bid_px), decimal(trade.ask_px), _size(trade.bid_sz), _size(trade.ask_sz),
    ]  # fmt: skip


def _size(size: int | None) -> object:
    return "" if size is None else size


def book(
    files: Annotated[list[Path], typer.Argument(help="DBN files of MBO or MBP-10 records")],
    trades_out: Annotated[
        Path,
        typer.Option(
            "--trades-out",
            help="CSV: every trade with the best bid and ask in force just before it",
        ),
    ],
) -> None:
    """Rebuild order books from MBO or MBP-10 DBN files; write their trades with the touch.

    A book keeps to the first feed naming it; another feed's events for it are counted.

    The summary counts aggressor trades inside the touch (buys below the ask, sells above).
    """
    check_inputs(files)
    quarantined: Counter[str] = Counter()
    counters: Counter[str] = Counter()
    placed = Counter[str]()
    partial = trades_out.with_name(trades_out.name + ".part")
    with writing(trades_out), partial.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for trade in book_trades(files, quarantined, counters):
            writer.writerow(row(trade))
            verdict = at_or_through_touch(trade)
            placed["unplaced" if verdict is None else "at_or_through" if verdict else "inside"] += 1
    with writing(trades_out):
        partial.replace(trades_out)
    total = sum(placed.values())
    typer.echo(
        f"{total:,} trades to {trades_out}; aggressor trades at or through the touch: "
        f"{placed['at_or_through']:,}, inside it: {placed['inside']:,}, without an aggressor "
        f"or the side it hit: {placed['unplaced']:,}",
        err=True,
    )
    for title, counts in (("book counters", counters), ("quarantined", quarantined)):
        shown = [f"{name}={n:,}" for name, n in sorted(counts.items()) if n]
        if shown:
            typer.echo(f"{title}: {', '.join(shown)}", err=True)
    failed = sorted(_READ_FAILURES & set(quarantined))
    if failed:
        raise BookInputError(
            f"{', '.join(failed)}: the input stops short; the trades before that are written",
            code=failed[0],
        )


def register(app: typer.Typer) -> None:
    """Add `book`."""
    app.command()(book)
