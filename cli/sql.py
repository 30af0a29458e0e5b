"""`flowtape sql`: SQL or a named query against flowtape's ClickHouse database."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import date, datetime
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from analytics.queries import bind_params, get_query, list_queries, parse_param_args, run_query
from cli.errors import SqlError
from cli.stack import open_warehouse
from infra.readonly_sql import (
    SqlFailed,
    SqlLimits,
    SqlRejected,
    check_read_only,
    one_statement,
    run_read_only,
    server_message,
)
from infra.settings import get_settings
from infra.stack import Stack
from infra.warehouse import Warehouse

FORMATS = ("table", "json", "csv")


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return value


def render_rows(columns: list[str], rows: list[tuple[Any, ...]], fmt: str) -> str:
    """Query results as `table`, `json` or `csv` text."""
    if fmt == "json":
        return json.dumps(
            [{c: _plain(v) for c, v in zip(columns, row, strict=True)} for row in rows]
        )
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.writer(out)
        writer.writerow(columns)
        writer.writerows([[_plain(v) for v in row] for row in rows])
        return out.getvalue()
    table = Table(*columns)
    for row in rows:
        table.add_row(*(str(_plain(v)) for v in row))
    text = io.StringIO()
    Console(file=text, width=200).print(table)
    return text.getvalue()


_TARGET = re.compile(
    r"^(?:INSERT\s+INTO|DELETE\s+FROM|UPDATE|(?:\w+)(?:\s+(?:OR\s+REPLACE|TEMPORARY|MATERIALIZED"
    r"|TABLE|VIEW|DATABASE|DICTIONARY|COLUMN|ALL))*)(?:\s+IF\s+(?:NOT\s+)?EXISTS)?\s+"
    r"([`\"\w.]+)",
    re.IGNORECASE,
)


def describe_write(statement: str) -> str:
    """What a statement will do, for the line `--write` prints first: `DROP TABLE alerts`."""
    words = statement.split()
    target = _TARGET.match(statement)
    if target is None:
        return " ".join(words[:2]).upper()
    head = statement[: target.start(1)].split()
    kind = " ".join(w.upper() for w in head if w.upper() not in {"IF", "NOT", "EXISTS"})
    return f"{kind} {target[1]}"


def _read(warehouse: Warehouse, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    try:
        result = run_read_only(warehouse, query, SqlLimits())
    except SqlFailed as exc:
        raise SqlError(exc.args[0]) from exc
    if result["truncated"]:
        typer.echo(f"(the first {result['row_count']} rows; the result has more)", err=True)
    return result["columns"], result["rows"]


def _write(warehouse: Warehouse, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    statement = one_statement(query)
    typer.echo(f"write: {describe_write(statement)} in database {warehouse.database}", err=True)
    try:
        result = warehouse.client.query(statement)
    except Exception as exc:
        raise SqlError(server_message(exc)) from exc
    return list(result.column_names), list(result.result_rows)


def _list_named_queries() -> None:
    for named in list_queries():
        params = ", ".join(
            f"{p}:{t}" + (f"={named.defaults[p]!r}" if p in named.defaults else "")
            for p, t in named.params.items()
        )
        typer.echo(f"{named.name}({params})\n    {named.description}")


def sql(
    query: Annotated[str, typer.Argument(help="SQL to run.")] = "",
    fmt: Annotated[str, typer.Option("--format", help="table, json or csv")] = "table",
    name: Annotated[
        str, typer.Option("--name", help="Run the named query sql/queries/NAME.sql.")
    ] = "",
    param: Annotated[
        list[str] | None, typer.Option("--param", help="A named query's parameter, k=v.")
    ] = None,
    list_names: Annotated[
        bool, typer.Option("--list", help="List the named queries and their parameters.")
    ] = False,
    write: Annotated[
        bool,
        typer.Option(
            "--write", help="Run a statement that writes (or reads system tables); says it first."
        ),
    ] = False,
) -> None:
    """Run read-only SQL against flowtape's ClickHouse database (as `POST /v1/sql` does), or a
    named query (--name); statements that write need --write."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"expected table, json or csv, got {fmt!r}")
    if list_names:
        _list_named_queries()
        return
    if bool(name) == bool(query):
        raise typer.BadParameter("expected either SQL text or --name NAME")
    if param and not name:
        raise typer.BadParameter("--param goes with --name")
    if write and name:
        raise typer.BadParameter("--write goes with SQL text, not --name")
    params = parse_param_args(param or [])
    if name:
        bind_params(get_query(name), params)  # a wrong name or parameter fails before any server
    elif not write:
        _refuse_before_any_server(query)
    settings = get_settings()
    with Stack(settings, needs=("clickhouse",)) as stack, open_warehouse(stack, settings) as wh:
        if name:
            columns, rows = run_query(wh, name, params)
        elif write:
            columns, rows = _write(wh, query)
        else:
            columns, rows = _read(wh, query)
        typer.echo(render_rows(columns, rows, fmt), nl=False)


def _refuse_before_any_server(query: str) -> None:
    try:
        check_read_only(query)
    except SqlRejected as exc:
        raise SqlRejected(f"{exc.args[0]} (`flowtape sql --write` runs it)") from exc


def register(app: typer.Typer) -> None:
    """Add `sql`."""
    app.command()(sql)
