"""`flowtape sql`: SQL or a named query against flowtape's ClickHouse database."""

from __future__ import annotations

import csv
import io
import json
from datetime import date, datetime
from typing import Annotated, Any

import typer
from clickhouse_connect.driver.exceptions import DatabaseError
from rich.console import Console
from rich.table import Table

from analytics.queries import bind_params, get_query, list_queries, parse_param_args, run_query
from cli.errors import SqlError
from cli.stack import open_warehouse
from infra.settings import get_settings
from infra.stack import Stack

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
) -> None:
    """Run SQL against flowtape's ClickHouse database, or a named query (--name)."""
    if fmt not in FORMATS:
        raise typer.BadParameter(f"expected table, json or csv, got {fmt!r}")
    if list_names:
        _list_named_queries()
        return
    if bool(name) == bool(query):
        raise typer.BadParameter("expected either SQL text or --name NAME")
    if param and not name:
        raise typer.BadParameter("--param goes with --name")
    params = parse_param_args(param or [])
    if name:
        bind_params(get_query(name), params)  # a wrong name or parameter fails before any server
    settings = get_settings()
    with Stack(settings, needs=("clickhouse",)) as stack, open_warehouse(stack, settings) as wh:
        if name:
            columns, rows = run_query(wh, name, params)
        else:
            try:
                result = wh.client.query(query)
            except DatabaseError as exc:
                raise SqlError(str(exc)) from exc
            columns, rows = list(result.column_names), list(result.result_rows)
        typer.echo(render_rows(columns, rows, fmt), nl=False)


def register(app: typer.Typer) -> None:
    """Add `sql`."""
    app.command()(sql)
