"""`flowtape keys create|list|revoke`: the API keys of this data dir."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from infra.keys import SCOPES, KeyStore
from infra.settings import get_settings

keys = typer.Typer(no_args_is_help=True, help="API keys: create, list, revoke.")


def _store() -> KeyStore:
    return KeyStore(get_settings().data_dir)


def _time(ns: int | None) -> str:
    return "" if ns is None else datetime.fromtimestamp(ns / 1e9, UTC).strftime("%Y-%m-%d %H:%M")


@keys.command("create")
def create(
    scope: Annotated[
        list[str], typer.Option("--scope", help=f"One of {', '.join(SCOPES)}; repeatable.")
    ],
    name: Annotated[str, typer.Option(help="A label for people reading `keys list`.")] = "",
    rate: Annotated[
        str, typer.Option(help="Requests allowed, N/s, N/m or N/h (default API_KEY_RATE).")
    ] = "",
) -> None:
    """Create a key and print it once: it is stored only as a salted hash."""
    record, text = _store().create(scope, name=name, rate=rate)
    typer.echo(text)
    typer.echo(
        f"key {record.key_id} scopes {','.join(record.scopes)}: shown once, keep it now",
        err=True,
    )


@keys.command("list")
def list_keys(
    as_json: Annotated[bool, typer.Option("--json", help="JSON instead of a table.")] = False,
) -> None:
    """Every key's id, name, scopes, rate and dates (never the key itself)."""
    records = _store().list()
    if as_json:
        typer.echo(json.dumps([r.public() for r in records]))
        return
    table = Table("id", "name", "scopes", "rate", "created (UTC)", "revoked (UTC)")
    for r in records:
        table.add_row(
            r.key_id, r.name, ",".join(r.scopes), r.rate or "default", _time(r.created_ns),
            _time(r.revoked_ns),
        )  # fmt: skip
    Console().print(table)


@keys.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (`keys list`).")]) -> None:
    """Revoke a key: the API refuses it from its next request on."""
    record = _store().revoke(key_id)
    typer.echo(f"revoked {record.key_id}")


def register(app: typer.Typer) -> None:
    """Add `keys`."""
    app.add_typer(keys, name="keys")
